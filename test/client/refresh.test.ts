import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryConnectError } from '../../src/client/index.js';
import { clientFor, ManualClock, startFakeServer, type FakeServer } from './fake-server.js';

describe('client refresh', () => {
  let fake: FakeServer;
  before(async () => {
    fake = await startFakeServer();
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.onAuth = undefined;
    fake.onApi = undefined;
    fake.expiresIn = 3600;
  });

  function counts(): { logins: number; refreshes: number } {
    return { logins: fake.loginAttempts, refreshes: fake.refreshAttempts };
  }
  function since(start: { logins: number; refreshes: number }): { logins: number; refreshes: number } {
    return { logins: fake.loginAttempts - start.logins, refreshes: fake.refreshAttempts - start.refreshes };
  }

  it('refreshes proactively at 90 % of expires_in with the documented refresh body', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now });
    const start = counts();
    const first = await client.accessToken();

    clock.advance(3600 * 0.89);
    assert.equal(await client.accessToken(), first, 'before 90 %, the held token is used');
    assert.deepEqual(since(start), { logins: 1, refreshes: 0 });

    clock.advance(3600 * 0.02);
    const second = await client.accessToken();
    assert.notEqual(second, first);
    assert.deepEqual(since(start), { logins: 1, refreshes: 1 });

    const refresh = fake.authRequests.at(-1);
    assert.equal(refresh?.path, '/api/v140/auth');
    const body = JSON.parse(refresh?.body ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['grant_type', 'refresh_token']);
    assert.equal(body.grant_type, 'refresh_token');
    assert.ok(fake.issued.includes(String(body.refresh_token)));

    // The new token is what API calls carry.
    await (await client.fetch('/api/v140/x')).body?.cancel();
    assert.equal(fake.apiRequests.at(-1)?.headers.authorization, `Bearer ${second}`);
  });

  it('honours refreshAt and a short expires_in', async () => {
    fake.expiresIn = 2;
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now, refreshAt: 0.5 });
    const start = counts();
    await client.accessToken();
    clock.advance(0.9);
    await client.accessToken();
    assert.deepEqual(since(start), { logins: 1, refreshes: 0 });
    clock.advance(0.2);
    await client.accessToken();
    assert.deepEqual(since(start), { logins: 1, refreshes: 1 });
  });

  it('refreshes with the real clock too (expires_in 1 s, refreshAt 0.5)', async () => {
    fake.expiresIn = 1;
    const client = clientFor(fake, { refreshAt: 0.5 });
    const start = counts();
    const first = await client.accessToken();
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.notEqual(await client.accessToken(), first);
    assert.deepEqual(since(start), { logins: 1, refreshes: 1 });
  });

  it('shares one refresh between concurrent callers', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now });
    await client.accessToken();
    const start = counts();
    clock.advance(3500);
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 50 });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.deepEqual(since(start), { logins: 0, refreshes: 1 });
  });

  it('falls back to a password login when the refresh is refused with 401 invalid_grant', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now });
    await client.accessToken();
    fake.forgetRefreshTokens(); // the session ended on the server
    const start = counts();
    clock.advance(3500);
    const token = await client.accessToken();
    assert.ok(fake.issued.includes(token));
    assert.deepEqual(since(start), { logins: 1, refreshes: 1 });

    // Refreshing still works afterwards.
    clock.advance(3500);
    await client.accessToken();
    assert.deepEqual(since(start), { logins: 1, refreshes: 2 });
  });

  for (const [name, reply] of [
    ['404 (no refresh route, as the real API documents none)', { status: 404, body: '<html>Not Found</html>' }],
    ['405', { status: 405, body: { error: 'invalid_request', error_description: 'POST only' } }],
    ['400 unsupported_grant_type', { status: 400, body: { error: 'unsupported_grant_type', error_description: 'no' } }],
  ] as const) {
    it(`falls back to a password login on ${name}, and stops trying refreshes`, async () => {
      fake.onAuth = (request, next) => (request.json?.grant_type === 'refresh_token' ? reply : next());
      const clock = new ManualClock();
      const client = clientFor(fake, { now: clock.now });
      const start = counts();
      const first = await client.accessToken();
      clock.advance(3500);
      const second = await client.accessToken();
      assert.notEqual(second, first);
      assert.deepEqual(since(start), { logins: 2, refreshes: 1 });

      clock.advance(3500);
      await client.accessToken();
      assert.deepEqual(since(start), { logins: 3, refreshes: 1 }, 'the next renewal goes straight to a login');
    });
  }

  it('falls back to a login on a 400 invalid_grant (RFC 6749 §5.2 status)', async () => {
    fake.onAuth = (request, next) =>
      request.json?.grant_type === 'refresh_token' ? { status: 400, body: { error: 'invalid_grant' } } : next();
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now });
    const start = counts();
    await client.accessToken();
    clock.advance(3500);
    await client.accessToken();
    clock.advance(3500);
    await client.accessToken();
    // invalid_grant is about this token, not the server: refreshes keep being tried.
    assert.deepEqual(since(start), { logins: 3, refreshes: 2 });
  });

  it('keeps using the unexpired token when a proactive refresh fails for a passing reason', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now, maxRetries: 0 });
    const first = await client.accessToken();
    fake.onAuth = () => ({ status: 503, body: { error: 'temporarily_unavailable' } });

    clock.advance(3500); // past 90 %, before expiry
    assert.equal(await client.accessToken(), first);

    clock.advance(200); // now expired
    await assert.rejects(client.accessToken(), { code: 'temporarily_unavailable', status: 503 });

    fake.onAuth = undefined;
    const start = counts();
    const renewed = await client.accessToken();
    assert.notEqual(renewed, first);
    assert.deepEqual(since(start), { logins: 0, refreshes: 1 }, 'the refresh token survived the outage');
  });

  it('does not fall back to a login when the refresh is throttled (a login would be too)', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now, maxRetries: 0 });
    await client.accessToken();
    fake.onAuth = () => ({ status: 429, headers: { 'retry-after': '30' }, body: { error: 'slow_down' } });
    const start = counts();
    clock.advance(3700);
    await assert.rejects(client.accessToken(), (error: unknown) => {
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'slow_down');
      assert.equal(error.retryAfterMs, 30_000);
      return true;
    });
    assert.deepEqual(since(start), { logins: 0, refreshes: 1 });
  });

  it('reports a failed fallback login (password changed) even while the old token is valid', async () => {
    const clock = new ManualClock();
    const client = clientFor(fake, { now: clock.now });
    await client.accessToken();
    fake.onAuth = () => ({ status: 401, body: { error: 'invalid_grant' } });
    clock.advance(3500);
    await assert.rejects(client.accessToken(), { code: 'invalid_grant' });
  });
});
