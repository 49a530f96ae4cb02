import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/cli/logger.js';
import { defaultConfig } from '../../src/config/load.js';
import { hashSecret } from '../../src/core/crypto.js';
import { addUser, startServer } from '../helpers/server.js';
import { exitOf, postJson, send } from './support.js';

/**
 * SPEC §10: passwords, tokens, hashes and Authorization headers are never
 * logged — checked at the most verbose level, over every path a secret takes
 * into the server (bodies, headers, query strings, error paths).
 */
describe('log redaction at --log-level trace', () => {
  it('never writes a password or token used in the traffic', async () => {
    const server = await startServer({ args: ['--log-level', 'trace'] });
    const secrets = new Set<string>();
    const keep = (...values: unknown[]) => {
      for (const v of values) if (typeof v === 'string' && v.length > 0) secrets.add(v);
    };
    try {
      const auth = `${server.url}/api/v140/auth`;
      const password = await addUser(server, 'redact.user', 'Redact-Me-Password-7431');
      keep(password, server.adminPassword);

      // Logins (JSON and form), refreshes, wrong passwords, unknown users.
      const login = await postJson(auth, { username: 'redact.user', password });
      assert.equal(login.status, 200);
      keep(login.json.access_token, login.json.refresh_token);
      const form = await send(`${server.url}/oauth2/v1/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'redact.user', password }).toString(),
      });
      assert.equal(form.status, 200);
      keep(form.json.access_token, form.json.refresh_token);
      let refresh = String(login.json.refresh_token);
      for (let i = 0; i < 3; i++) {
        const r = await postJson(auth, { grant_type: 'refresh_token', refresh_token: refresh });
        assert.equal(r.status, 200);
        keep(r.json.access_token, r.json.refresh_token);
        refresh = String(r.json.refresh_token);
      }
      const wrong = ['Wrong-Password-Alpha-19', 'Wrong-Password-Beta-28'];
      keep(...wrong);
      for (const pw of wrong) assert.equal((await postJson(auth, { username: 'redact.user', password: pw })).status, 401);
      assert.equal((await postJson(auth, { username: 'no.such.user', password: 'Unknown-User-Password-55' })).status, 401);
      keep('Unknown-User-Password-55');
      // Reuse of a spent refresh token (the error path logs a cause).
      assert.equal((await postJson(auth, { grant_type: 'refresh_token', refresh_token: String(login.json.refresh_token) })).status, 401);
      // A malformed body that still carries a password.
      const broken = '{"username":"redact.user","password":"Broken-Json-Password-66"';
      keep('Broken-Json-Password-66');
      assert.equal((await send(auth, { method: 'POST', headers: { 'content-type': 'application/json' }, body: broken })).status, 400);

      // Introspection and revocation with an admin bearer token in Authorization.
      const admin = await postJson(auth, { username: 'admin', password: server.adminPassword });
      assert.equal(admin.status, 200);
      keep(admin.json.access_token, admin.json.refresh_token);
      const bearer = { authorization: `Bearer ${String(admin.json.access_token)}` };
      const introspect = await send(`${server.url}/oauth2/v1/introspect`, {
        method: 'POST', headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: String(form.json.access_token) }).toString(),
      });
      assert.equal(introspect.status, 200);
      assert.equal(introspect.json.active, true);
      const badBearer = 'Bearer not.a-real.token-Secretish-9981';
      keep('not.a-real.token-Secretish-9981');
      assert.equal((await send(`${server.url}/oauth2/v1/introspect`, { method: 'POST', headers: { authorization: badBearer, 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' })).status, 401);
      assert.equal((await send(`${server.url}/oauth2/v1/revoke`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: String(form.json.refresh_token) }).toString(),
      })).status, 200);

      // Tokens in query strings (some clients do this) and in cookies, on known and unknown routes.
      const q = encodeURIComponent(String(login.json.access_token));
      await send(`${server.url}/oauth2/v1/keys?access_token=${q}`);
      await send(`${server.url}/healthz?access_token=${q}&refresh_token=${encodeURIComponent(refresh)}`);
      await send(`${server.url}/no/such/route?access_token=${q}`);
      await send(`${server.url}/api/v140/auth?password=${encodeURIComponent(password)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'redact.user', password }) });
      await send(`${server.url}/readyz`, { headers: { cookie: `session=${refresh}`, 'x-api-key': password } });

      // Admin API: secrets in bodies of account management calls.
      const created = 'Admin-Created-Password-8812';
      const changed = 'Admin-Changed-Password-9923';
      keep(created, changed);
      const adminJson = { ...bearer, 'content-type': 'application/json' };
      await send(`${server.url}/admin/v1/accounts`, { method: 'POST', headers: adminJson, body: JSON.stringify({ username: 'redact.two', password: created }) });
      await send(`${server.url}/admin/v1/accounts/redact.two/password`, { method: 'POST', headers: adminJson, body: JSON.stringify({ password: changed }) });
    } finally {
      server.process.kill('SIGTERM');
      assert.equal(await exitOf(server.process), 0);
      await server.stop();
    }

    const logs = server.logs();
    // Not vacuous: the traffic was logged, one line per request, with request ids.
    assert.ok(logs.split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"reqId"')).length >= 20);
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 6)}…) is in the log`);
      assert.ok(!logs.includes(encodeURIComponent(secret)), `a URL-encoded secret (${secret.slice(0, 6)}…) is in the log`);
      assert.ok(!logs.includes(hashSecret(secret)), `the hash of a secret (${secret.slice(0, 6)}…) is in the log`);
      if (secret.split('.').length === 3) {
        // A JWT: its payload and signature alone are secrets too.
        const [, payload, signature] = secret.split('.');
        assert.ok(!logs.includes(payload!) && !logs.includes(signature!), 'part of an access token is in the log');
      }
    }
    assert.ok(!/Bearer [A-Za-z0-9_-]{10,}/.test(logs), 'an Authorization header value is in the log');
    const requestLines = logs.split('\n').filter((l) => l.includes('"msg":"request"'));
    assert.ok(requestLines.some((l) => l.includes('"route":"/api/v140/auth"')), 'request lines name the route');
    assert.ok(requestLines.every((l) => !l.includes('"url"') && !l.includes('?')), 'request lines carry no URL or query');
  });
});

describe('createLogger', () => {
  function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    return { stream, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('logs a raw request as method, route and IP only', () => {
    const out = capture();
    const log = createLogger(defaultConfig({ logLevel: 'trace' }), out.stream);
    const raw = {
      method: 'POST', url: '/api/v140/auth?access_token=QUERY-SECRET', ip: '192.0.2.1', routeOptions: { url: '/api/v140/auth' },
      headers: { authorization: 'Bearer HEADER-SECRET', cookie: 'sid=COOKIE-SECRET' }, body: { password: 'BODY-SECRET' },
    };
    log.info({ req: raw }, 'request');
    assert.deepEqual(out.lines()[0]!.req, { method: 'POST', route: '/api/v140/auth', ip: '192.0.2.1' });
  });

  it('blanks secret-named keys and credential headers wherever a line puts them', () => {
    const out = capture();
    const log = createLogger(defaultConfig({ logLevel: 'trace' }), out.stream);
    log.info({ password: 'P1-SECRET', token: 'T1-SECRET', body: { refresh_token: 'R1-SECRET', username: 'kept' }, headers: { authorization: 'Bearer H1-SECRET' } }, 'x');
    const text = JSON.stringify(out.lines());
    for (const s of ['P1-SECRET', 'T1-SECRET', 'R1-SECRET', 'H1-SECRET']) assert.ok(!text.includes(s), s);
    assert.ok(text.includes('kept') && text.includes('[redacted]'));
  });
});
