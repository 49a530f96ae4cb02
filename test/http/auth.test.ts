import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

const STACK = /at .*\.(js|ts):\d+|node:internal|Error:/;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('POST /api/{version}/auth', () => {
  let server: ServerHandle;
  let password: string;

  before(async () => {
    server = await startServer();
    password = await addUser(server, 'Alice.Agent');
  });
  after(() => server.stop());

  it('returns exactly the documented body and headers', async () => {
    const r = await postAuth(server.url, { username: 'Alice.Agent', password });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^application\/json/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('pragma'), 'no-cache');
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 3600);
    assert.match(String(r.json.refresh_token), /^[A-Za-z0-9_-]{43}$/);
  });

  it('signs an RS256 JWT with every documented claim, verifiable with the served JWKS', async () => {
    const t = await login(server.url, 'alice.agent', password);
    const header = decodeProtectedHeader(t.access_token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid']);
    assert.equal(header.alg, 'RS256');
    const jwks = createRemoteJWKSet(new URL(`${server.url}/oauth2/v1/keys`));
    const { payload } = await jwtVerify(t.access_token, jwks, { issuer: server.url, audience: 'api://default', algorithms: ['RS256'] });
    assert.deepEqual(Object.keys(payload), ['ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'auth_time', 'sub']);
    assert.equal(payload.ver, 1);
    assert.match(String(payload.jti), /^AT\.[A-Za-z0-9_-]{22,}$/);
    assert.equal(payload.aud, 'api://default');
    assert.equal(payload.exp! - payload.iat!, 3600);
    assert.equal(typeof payload.cid, 'string');
    assert.equal(typeof payload.uid, 'string');
    assert.deepEqual(payload.scp, ['openid', 'offline_access', 'profile']);
    assert.equal(payload.auth_time, payload.iat);
    assert.equal(payload.sub, 'Alice.Agent', 'sub carries the username as created');
    const t2 = await login(server.url, 'ALICE.AGENT', password);
    assert.notEqual(claimsOf(t2.access_token).jti, payload.jti, 'jti is unique per token');
    assert.equal(claimsOf(t2.access_token).uid, payload.uid, 'uid is stable');
  });

  it('serves the same contract on v130, v140 and v150, and 404 on other versions', async () => {
    for (const version of ['v130', 'v140', 'v150']) {
      const r = await postAuth(server.url, { username: 'Alice.Agent', password }, { version });
      assert.equal(r.status, 200, version);
    }
    const r = await postAuth(server.url, { username: 'Alice.Agent', password }, { version: 'v999' });
    assert.equal(r.status, 404);
  });

  it('accepts form bodies like JSON ones', async () => {
    const raw = new URLSearchParams({ username: 'Alice.Agent', password }).toString();
    const r = await postAuth(server.url, null, { raw, contentType: 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 200);
    const f = await postAuth(server.url, null, { raw: `grant_type=refresh_token&refresh_token=${r.json.refresh_token}`, contentType: 'application/x-www-form-urlencoded' });
    assert.equal(f.status, 200);
  });

  it('grants a requested subset of scopes and refuses others', async () => {
    const ok = await postAuth(server.url, { username: 'Alice.Agent', password, scope: 'openid profile' });
    assert.equal(ok.status, 200);
    assert.deepEqual(claimsOf(String(ok.json.access_token)).scp, ['openid', 'profile']);
    const bad = await postAuth(server.url, { username: 'Alice.Agent', password, scope: 'openid rcauth:admin' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid_scope');
  });

  it('rotates refresh tokens: new pair, old token refused, auth_time kept, new jti', async () => {
    const first = await login(server.url, 'Alice.Agent', password);
    await new Promise((r) => setTimeout(r, 1100));
    const second = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(second.status, 200);
    assert.notEqual(second.json.refresh_token, first.refresh_token);
    const c1 = claimsOf(first.access_token);
    const c2 = claimsOf(String(second.json.access_token));
    assert.notEqual(c2.jti, c1.jti);
    assert.equal(c2.auth_time, c1.auth_time, 'auth_time is the password login, unchanged by refresh');
    assert.ok(Number(c2.iat) > Number(c1.iat));
    assert.deepEqual(c2.scp, c1.scp);
    const third = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: String(second.json.refresh_token) });
    assert.equal(third.status, 200);
  });

  it('ends the whole family when a used refresh token comes back (reuse)', async () => {
    const first = await login(server.url, 'Alice.Agent', password);
    const second = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(second.status, 200);
    const reuse = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.json.error, 'invalid_grant');
    const newest = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: String(second.json.refresh_token) });
    assert.equal(newest.status, 401, 'the newest token of the family is dead too');
    assert.equal(newest.json.error, 'invalid_grant');
  });

  it('lets exactly one of concurrent refreshes of one token win', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await login(server.url, 'Alice.Agent', password);
      const results = await Promise.all(Array.from({ length: 8 }, () => postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token })));
      assert.equal(results.filter((r) => r.status === 200).length, 1, `round ${round}`);
      assert.ok(results.filter((r) => r.status !== 200).every((r) => r.status === 401 && r.json.error === 'invalid_grant'));
    }
  });

  describe('errors (SPEC §3 table)', () => {
    const cases: [string, () => Promise<Awaited<ReturnType<typeof postAuth>>>, number, string][] = [
      ['malformed JSON', () => postAuth(server.url, null, { raw: '{"username": ' }), 400, 'invalid_request'],
      ['JSON that is not an object', () => postAuth(server.url, null, { raw: '["a"]' }), 400, 'invalid_request'],
      ['missing username', () => postAuth(server.url, { password: 'x' }), 400, 'invalid_request'],
      ['empty password', () => postAuth(server.url, { username: 'a', password: '' }), 400, 'invalid_request'],
      ['non-string username', () => postAuth(server.url, { username: 42, password: 'x' }), 400, 'invalid_request'],
      ['duplicated field', () => postAuth(server.url, null, { raw: '{"username":"a","username":"b","password":"x"}' }), 400, 'invalid_request'],
      ['duplicated form field', () => postAuth(server.url, null, { raw: 'username=a&username=b&password=x', contentType: 'application/x-www-form-urlencoded' }), 400, 'invalid_request'],
      ['username over 256 chars', () => postAuth(server.url, { username: 'u'.repeat(257), password: 'x' }), 400, 'invalid_request'],
      ['password over 1024 bytes', () => postAuth(server.url, { username: 'a', password: 'é'.repeat(513) }), 400, 'invalid_request'],
      ['unknown grant_type', () => postAuth(server.url, { grant_type: 'client_credentials' }), 400, 'unsupported_grant_type'],
      ['wrong password', () => postAuth(server.url, { username: 'Alice.Agent', password: 'not-the-password' }), 401, 'invalid_grant'],
      ['unknown username', () => postAuth(server.url, { username: 'nobody-here', password: 'whatever-password' }), 401, 'invalid_grant'],
      ['unknown refresh token', () => postAuth(server.url, { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) }), 401, 'invalid_grant'],
      ['malformed refresh token', () => postAuth(server.url, { grant_type: 'refresh_token', refresh_token: 'short' }), 401, 'invalid_grant'],
      ['body over 16 KiB', () => postAuth(server.url, null, { raw: JSON.stringify({ username: 'a', password: 'x', pad: 'p'.repeat(17 * 1024) }) }), 413, 'invalid_request'],
      ['other content type', () => postAuth(server.url, null, { raw: 'username=a', contentType: 'text/plain' }), 415, 'invalid_request'],
      ['invalid UTF-8', () => postAuth(server.url, null, { raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }), 400, 'invalid_request'],
    ];
    for (const [name, call, status, code] of cases) {
      it(`${name} → ${status} ${code}`, async () => {
        const r = await call();
        assert.equal(r.status, status, r.text);
        assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description']);
        assert.equal(r.json.error, code);
        assert.equal(typeof r.json.error_description, 'string');
        assert.doesNotMatch(r.text, STACK);
      });
    }

    it('wrong password and unknown username give the identical body', async () => {
      const a = await postAuth(server.url, { username: 'Alice.Agent', password: 'not-the-password' });
      const b = await postAuth(server.url, { username: 'nobody-at-all', password: 'not-the-password' });
      assert.equal(a.text, b.text);
    });

    it('any method but POST → 405 with Allow: POST', async () => {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
        const res = await fetch(`${server.url}/api/v140/auth`, { method });
        const body = (await res.json()) as Record<string, unknown>;
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'POST');
        assert.equal(body.error, 'invalid_request');
      }
    });
  });

  it('serves RFC 8414 metadata for both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const doc = (await (await fetch(server.url + path)).json()) as Record<string, unknown>;
      assert.equal(doc.issuer, server.url);
      assert.equal(doc.jwks_uri, `${server.url}/oauth2/v1/keys`);
      assert.equal(doc.token_endpoint, `${server.url}/oauth2/v1/token`);
      assert.deepEqual(doc.grant_types_supported, ['password', 'refresh_token']);
    }
  });

  it('serves only public keys with a max-age', async () => {
    const res = await fetch(`${server.url}/oauth2/v1/keys`);
    assert.match(res.headers.get('cache-control')!, /max-age=\d+/);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    assert.ok(keys.length >= 1);
    for (const k of keys) {
      assert.equal(k.kty, 'RSA');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, `no private member ${priv}`);
    }
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
  });
});

describe('configurable token policy', () => {
  let server: ServerHandle;
  let password: string;
  before(async () => {
    server = await startServer({
      args: ['--issuer', 'https://auth.example.test', '--audience', 'api://orders', '--access-ttl', '600', '--client-id', 'cid-fixed',
        '--clients', 'mobile-app', '--token-profile', 'rfc9068', '--refresh-grace', '5', '--refresh-idle-ttl', '60', '--refresh-ttl', '120'],
    });
    password = await addUser(server, 'bob');
  });
  after(() => server.stop());

  it('uses issuer, audience, TTL, client id and the RFC 9068 profile', async () => {
    const t = await login(server.url, 'bob', password);
    assert.equal(t.expires_in, 600);
    const header = decodeProtectedHeader(t.access_token);
    assert.equal(header.typ, 'at+jwt');
    const c = claimsOf(t.access_token);
    assert.equal(c.iss, 'https://auth.example.test');
    assert.equal(c.aud, 'api://orders');
    assert.equal(Number(c.exp) - Number(c.iat), 600);
    assert.equal(c.cid, 'cid-fixed');
    assert.equal(c.client_id, 'cid-fixed');
    assert.equal(c.scope, 'openid offline_access profile');
    const viaClient = await login(server.url, 'bob', password, { client_id: 'mobile-app' });
    assert.equal(claimsOf(viaClient.access_token).cid, 'mobile-app', 'a registered client_id becomes cid');
    const unknown = await login(server.url, 'bob', password, { client_id: 'not-registered' });
    assert.equal(claimsOf(unknown.access_token).cid, 'cid-fixed');
  });

  it('replays the identical response to the direct predecessor inside the grace window', async () => {
    const t = await login(server.url, 'bob', password);
    const a = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    const b = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.text, a.text, 'identical access and refresh token');
    // The replayed refresh token is the family's current one and still works.
    const c = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: String(a.json.refresh_token) });
    assert.equal(c.status, 200);
    // Older than the direct predecessor: reuse, the family ends.
    const old = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(old.status, 401);
    const d = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: String(c.json.refresh_token) });
    assert.equal(d.status, 401, 'family ended by the reuse');
  });

  it('keeps no grace response in plaintext in the store', async () => {
    const Database = (await import('better-sqlite3')).default;
    const t = await login(server.url, 'bob', password);
    const a = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    const db = new Database(`${server.dataDir}/rcauth.db`, { readonly: true });
    const dump = JSON.stringify(db.prepare('SELECT * FROM families').all()) + JSON.stringify(db.prepare('SELECT * FROM refresh_tokens').all());
    db.close();
    assert.ok(!dump.includes(String(a.json.access_token)));
    assert.ok(!dump.includes(String(a.json.refresh_token)));
    assert.ok(!dump.includes(t.refresh_token));
  });
});
