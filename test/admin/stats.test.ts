/** The dashboard figures and the admin JSON body parser: pure functions, fixed vectors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAdminJson } from '../../src/admin/body.js';
import { countLogins, describeThrottleKey, emptyBuckets, HOUR, readLogins } from '../../src/admin/stats.js';
import type { AuditEvent, AuditFilter, Store } from '../../src/core/store.js';

const NOW = Date.UTC(2025, 0, 31, 12, 34, 56);

describe('dashboard figures', () => {
  it('makes 24 hourly buckets aligned to whole hours, the last holding now', () => {
    const b = emptyBuckets(NOW, 24);
    assert.equal(b.length, 24);
    assert.equal(b.at(-1)!.start, Date.UTC(2025, 0, 31, 12));
    assert.equal(b[0]!.start, Date.UTC(2025, 0, 30, 13));
    assert.ok(b.every((x, i) => i === 0 || x.start - b[i - 1]!.start === HOUR));
  });

  it('counts logins by outcome into their hour and ignores others', () => {
    const b = countLogins(emptyBuckets(NOW, 24), [
      { at: NOW, outcome: 'ok' },
      { at: Date.UTC(2025, 0, 31, 12), outcome: 'failed' },
      { at: Date.UTC(2025, 0, 31, 11, 59, 59, 999), outcome: 'throttled' },
      { at: Date.UTC(2025, 0, 30, 13), outcome: 'ok' },
      { at: Date.UTC(2025, 0, 30, 12, 59), outcome: 'ok' },
      { at: NOW + HOUR, outcome: 'ok' },
      { at: NOW, outcome: 'info' },
    ]);
    assert.deepEqual(b.at(-1), { start: Date.UTC(2025, 0, 31, 12), ok: 1, failed: 1, throttled: 0 });
    assert.deepEqual(b.at(-2), { start: Date.UTC(2025, 0, 31, 11), ok: 0, failed: 0, throttled: 1 });
    assert.equal(b[0]!.ok, 1);
    assert.equal(b.reduce((n, x) => n + x.ok + x.failed + x.throttled, 0), 4);
  });

  it('reads throttle keys back into username and address', () => {
    assert.deepEqual(describeThrottleKey('u:alice'), { username: 'alice', clientIp: null });
    assert.deepEqual(describeThrottleKey('ipu:10.0.0.1|alice'), { username: 'alice', clientIp: '10.0.0.1' });
    assert.deepEqual(describeThrottleKey('ipu:::1|a|b'), { username: 'a|b', clientIp: '::1' });
  });

  it('reads the audit log in pages and stops at the cap, saying so', async () => {
    const all: AuditEvent[] = Array.from({ length: 25 }, (_, i) => ({
      at: NOW - i, type: 'login', outcome: 'ok', username: 'u', accountId: null, clientIp: null, requestId: null, actor: null, detail: null,
    }));
    const calls: AuditFilter[] = [];
    const store = { listAudit: async (f: AuditFilter) => { calls.push(f); return all.slice(f.offset ?? 0, (f.offset ?? 0) + (f.limit ?? 100)); } } as unknown as Store;
    const full = await readLogins(store, 0, NOW + 1, 100, 10);
    assert.equal(full.events.length, 25);
    assert.equal(full.truncated, false);
    assert.deepEqual(calls.map((c) => [c.offset, c.limit, c.type]), [[0, 10, 'login'], [10, 10, 'login'], [20, 10, 'login']]);
    const capped = await readLogins(store, 0, NOW + 1, 15, 10);
    assert.equal(capped.events.length, 15);
    assert.equal(capped.truncated, true);
    assert.equal((await readLogins(store, 0, NOW + 1, 25, 10)).truncated, false);
  });
});

describe('admin JSON bodies', () => {
  it('gives plain objects, and undefined for an empty body', () => {
    assert.deepEqual(parseAdminJson(Buffer.from('{"username":"a","scopes":["x"]}')), { username: 'a', scopes: ['x'] });
    assert.equal(parseAdminJson(Buffer.alloc(0)), undefined);
    assert.equal(parseAdminJson(Buffer.from('  \n')), undefined);
  });

  it('refuses invalid UTF-8, malformed JSON and non-objects with invalid_request', () => {
    for (const raw of [Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from('{'), Buffer.from('[]'), Buffer.from('null'), Buffer.from('"x"'), Buffer.from('1')]) {
      assert.throws(() => parseAdminJson(raw), (err: { code?: string; status?: number }) => err.code === 'invalid_request' && err.status === 400, raw.toString('hex'));
    }
  });
});
