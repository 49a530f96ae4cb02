/**
 * The client against the real server (`rcauth serve` as a child process, built dist/).
 * The access TTL is the server's minimum (10 s); refreshes are forced either by moving
 * the client's clock or by a small `refreshAt`, never by waiting out a full TTL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryConnectClient, RecoveryConnectError, type RecoveryConnectClientOptions } from '../../src/client/index.js';
import { startServer, type ServerHandle } from '../helpers/server.js';
import { ManualClock } from './fake-server.js';

const ALICE_PASSWORD = 'a-long-password-123';
const BOB_PASSWORD = 'bob-introspects-Secure-456';

/** What the client sent to the auth endpoint and what it got back, in order. */
interface AuthCall {
  grant: 'password' | 'refresh_token';
  status: number;
}

/**
 * A fetch that records auth calls, so tests can tell a refresh from a fallback login,
 * and collects the refresh tokens handed out (into `refreshTokens`, when given).
 */
function recordingFetch(calls: AuthCall[], refreshTokens: string[] = []): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (String(input).endsWith('/auth')) {
      const body = JSON.parse(String(init?.body)) as { grant_type?: string };
      calls.push({ grant: body.grant_type === 'refresh_token' ? 'refresh_token' : 'password', status: response.status });
      if (response.ok) refreshTokens.push(((await response.clone().json()) as { refresh_token: string }).refresh_token);
    }
    return response;
  };
}

function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('client against the real server', () => {
  let server: ServerHandle;

  before(async () => {
    server = await startServer({ args: ['--access-ttl', '10'] });
    const alice = await server.cli(['user', 'add', 'alice', '--password-stdin'], ALICE_PASSWORD);
    assert.equal(alice.code, 0, alice.stderr);
    const bob = await server.cli(
      ['user', 'add', 'bob', '--password-stdin', '--scope', 'openid,offline_access,profile,rcauth:introspect'],
      BOB_PASSWORD,
    );
    assert.equal(bob.code, 0, bob.stderr);
  });

  after(async () => {
    await server?.stop();
  });

  function client(username: string, password: string, options: Partial<RecoveryConnectClientOptions> = {}): RecoveryConnectClient {
    return new RecoveryConnectClient({ baseUrl: server.url, username, password, version: 'v140', ...options });
  }

  it('logs in and gets a JWT access token for the account', async () => {
    const alice = client('alice', ALICE_PASSWORD);
    const token = await alice.accessToken();
    const claims = claimsOf(token);
    assert.equal(claims.sub, 'alice');
    assert.equal(Number(claims.exp) - Number(claims.iat), 10);
    assert.equal(await alice.accessToken(), token, 'the held token is reused');
  });

  it('works on every configured version path', async () => {
    for (const version of ['v130', 'v140', 'v150']) {
      assert.equal(typeof (await client('alice', ALICE_PASSWORD, { version }).accessToken()), 'string', version);
    }
  });

  it('rejects a wrong password with invalid_grant', async () => {
    await assert.rejects(client('alice', 'not-the-password-000').accessToken(), (error: unknown) => {
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'invalid_grant');
      assert.equal(error.status, 401);
      return true;
    });
  });

  it('refreshes near expiry with the refresh token, and the server rotates it', async () => {
    const calls: AuthCall[] = [];
    const refreshTokens: string[] = [];
    const clock = new ManualClock();
    clock.ms = Date.now();
    const alice = client('alice', ALICE_PASSWORD, { now: clock.now, fetch: recordingFetch(calls, refreshTokens) });
    const first = await alice.accessToken();
    clock.advance(9.5);
    const second = await alice.accessToken();
    assert.notEqual(second, first);
    assert.deepEqual(calls, [
      { grant: 'password', status: 200 },
      { grant: 'refresh_token', status: 200 },
    ]);
    // A refresh keeps the session: same login time (auth_time), new token id.
    assert.equal(claimsOf(second).auth_time, claimsOf(first).auth_time);
    assert.notEqual(claimsOf(second).jti, claimsOf(first).jti);

    // Rotation: the first refresh token is spent. Presenting it again is reuse, which
    // ends the session (RFC 9700 §4.14.2), so the client's next refresh is refused and
    // it falls back to a password login.
    const reuse = await fetch(`${server.url}/api/v140/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshTokens[0] }),
    });
    assert.equal(reuse.status, 401);
    assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');

    clock.advance(9.5);
    const third = await alice.accessToken();
    assert.notEqual(third, second);
    assert.deepEqual(calls.slice(2), [
      { grant: 'refresh_token', status: 401 },
      { grant: 'password', status: 200 },
    ]);
  });

  it('refreshes with the real clock (refreshAt 0.1 of a 10 s token)', async () => {
    const calls: AuthCall[] = [];
    const alice = client('alice', ALICE_PASSWORD, { refreshAt: 0.1, fetch: recordingFetch(calls) });
    const first = await alice.accessToken();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await alice.accessToken();
    assert.notEqual(second, first);
    assert.deepEqual(
      calls.map((c) => c.grant),
      ['password', 'refresh_token'],
    );
  });

  it('calls a protected endpoint with the bearer token (introspection)', async () => {
    const bob = client('bob', BOB_PASSWORD);
    const token = await bob.accessToken();
    const response = await bob.fetch('/oauth2/v1/introspect', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { active: boolean; sub?: string };
    assert.equal(body.active, true);
    assert.equal(body.sub, 'bob');
  });

  it('after `user revoke`, a 401 makes it try the refresh, fall back to a login and retry once', async () => {
    const calls: AuthCall[] = [];
    const bob = client('bob', BOB_PASSWORD, { fetch: recordingFetch(calls) });
    const before = await bob.accessToken();
    const revoke = await server.cli(['user', 'revoke', 'bob']);
    assert.equal(revoke.code, 0, revoke.stderr);

    const response = await bob.fetch('/oauth2/v1/introspect', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: before }),
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { active: boolean }).active, false, 'the revoked token is inactive');
    assert.deepEqual(calls, [
      { grant: 'password', status: 200 },
      { grant: 'refresh_token', status: 401 },
      { grant: 'password', status: 200 },
    ]);
  });

  it('makes one login for 50 concurrent calls', async () => {
    const calls: AuthCall[] = [];
    const bob = client('bob', BOB_PASSWORD, { fetch: recordingFetch(calls) });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => bob.accessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(calls.length, 1);
  });
});
