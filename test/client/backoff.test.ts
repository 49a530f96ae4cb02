import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BASE_BACKOFF_MS, parseRetryAfter, retryDelay, sleep } from '../../src/client/backoff.js';

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('1', now), 1000);
    assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  });

  it('reads an HTTP-date relative to the clock; a past date means now', () => {
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 12:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now), 0);
  });

  it('ignores absent or malformed values', () => {
    for (const value of [null, '', '-1', '1.5', 'soon', '2026-03-01T12:00:05Z', 'Xyz, garbage']) {
      assert.equal(parseRetryAfter(value, now), undefined, String(value));
    }
  });
});

describe('retryDelay', () => {
  it('doubles a jittered step per attempt, between half and all of it', () => {
    for (const [attempt, step] of [
      [0, BASE_BACKOFF_MS],
      [1, BASE_BACKOFF_MS * 2],
      [2, BASE_BACKOFF_MS * 4],
    ] as const) {
      assert.equal(retryDelay(attempt, undefined, 10_000, () => 0), step / 2);
      assert.equal(retryDelay(attempt, undefined, 10_000, () => 1), step);
    }
  });

  it('caps the step at maxBackoffMs', () => {
    assert.equal(retryDelay(20, undefined, 1000, () => 1), 1000);
    assert.equal(retryDelay(20, undefined, 1000, () => 0), 500);
  });

  it('never waits less than Retry-After, and adds jitter on top', () => {
    assert.equal(retryDelay(0, 1000, 10_000, () => 0), 1000 + BASE_BACKOFF_MS / 2);
    assert.equal(retryDelay(0, 10_000, 10_000, () => 1), 10_000, 'capped, but still >= Retry-After');
  });

  it('refuses to wait when Retry-After exceeds maxBackoffMs', () => {
    assert.equal(retryDelay(0, 10_001, 10_000), undefined);
  });
});

describe('sleep', () => {
  it('rejects with the reason when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 10);
    await assert.rejects(sleep(10_000, controller.signal), (error: unknown) => error === reason);
    await assert.rejects(sleep(10, AbortSignal.abort(reason)), (error: unknown) => error === reason);
  });

  it('resolves after the time', async () => {
    const started = performance.now();
    await sleep(20);
    assert.ok(performance.now() - started >= 15);
  });
});
