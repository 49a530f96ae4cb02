// Issue 3 §9: security headers on every response, no X-Powered-By, CORS off by default
// and, with --cors-origins, on for the listed origins only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerHandle } from '../helpers/server.js';

const APP = 'https://app.example';
const EVIL = 'https://evil.example';

let plain: ServerHandle;
let cors: ServerHandle;

before(async () => {
  [plain, cors] = await Promise.all([startServer(), startServer({ args: ['--cors-origins', APP] })]);
});
after(async () => {
  await Promise.all([plain?.stop(), cors?.stop()]);
});

/** One request of every kind the server answers: success, client errors of each sort, discovery, operations. */
function everyKind(url: string): [string, () => Promise<Response>][] {
  const post = (path: string, type: string, body: string) => () => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  return [
    ['GET /healthz', () => fetch(`${url}/healthz`)],
    ['GET /readyz', () => fetch(`${url}/readyz`)],
    ['GET /metrics', () => fetch(`${url}/metrics`)],
    ['GET /oauth2/v1/keys', () => fetch(`${url}/oauth2/v1/keys`)],
    ['GET /.well-known/openid-configuration', () => fetch(`${url}/.well-known/openid-configuration`)],
    ['GET /openapi.json', () => fetch(`${url}/openapi.json`)],
    ['GET /nowhere (404)', () => fetch(`${url}/nowhere`)],
    ['GET /api/v140/auth (405)', () => fetch(`${url}/api/v140/auth`)],
    ['POST auth wrong password (401)', post('/api/v140/auth', 'application/json', '{"username":"nobody","password":"not-the-password"}')],
    ['POST auth malformed (400)', post('/api/v140/auth', 'application/json', '{')],
    ['POST auth text/plain (415)', post('/api/v140/auth', 'text/plain', 'x')],
    ['POST auth oversized (413)', post('/api/v140/auth', 'application/json', `{"x":"${'a'.repeat(17 * 1024)}"}`)],
    ['POST /oauth2/v1/token (400)', post('/oauth2/v1/token', 'application/x-www-form-urlencoded', 'grant_type=nope')],
    ['POST /oauth2/v1/introspect (401)', post('/oauth2/v1/introspect', 'application/x-www-form-urlencoded', 'token=x')],
    ['POST /oauth2/v1/revoke (200)', post('/oauth2/v1/revoke', 'application/x-www-form-urlencoded', 'token=x')],
  ];
}

describe('security headers', () => {
  test('every response carries nosniff, frame-options, CSP and referrer-policy, and no X-Powered-By', async () => {
    for (const [what, call] of everyKind(plain.url)) {
      const res = await call();
      await res.arrayBuffer();
      const h = res.headers;
      assert.equal(h.get('x-content-type-options'), 'nosniff', what);
      assert.equal(h.get('x-frame-options'), 'DENY', what);
      assert.match(h.get('content-security-policy') ?? '', /default-src 'none'/, what);
      assert.match(h.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
      assert.equal(h.get('referrer-policy'), 'no-referrer', what);
      assert.equal(h.get('x-powered-by'), null, what);
      assert.equal(h.get('server'), null, `${what}: no Server banner`);
      assert.equal(h.get('access-control-allow-origin'), null, `${what}: no CORS by default`);
    }
  });

  test('token responses and errors are not cacheable', async () => {
    for (const [what, call] of everyKind(plain.url).filter(([w]) => w.startsWith('POST'))) {
      const res = await call();
      await res.arrayBuffer();
      assert.equal(res.headers.get('cache-control'), 'no-store', what);
    }
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) => fetch(`${url}/api/v140/auth`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  const loginFrom = (url: string, origin: string) => fetch(`${url}/api/v140/auth`, {
    method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{"username":"nobody","password":"not-the-password"}',
  });

  test('off by default: no Access-Control-Allow-Origin on a preflight or a response, whatever the origin', async () => {
    for (const origin of [APP, EVIL, 'null']) {
      const pre = await preflight(plain.url, origin);
      await pre.arrayBuffer();
      assert.equal(pre.headers.get('access-control-allow-origin'), null, `preflight from ${origin}`);
      const res = await loginFrom(plain.url, origin);
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, 401);
      assert.equal(body.error, 'invalid_grant');
      assert.equal(res.headers.get('access-control-allow-origin'), null, `response to ${origin}`);
    }
  });

  test('with --cors-origins https://app.example: the preflight and the response carry it for that origin only', async () => {
    const pre = await preflight(cors.url, APP);
    await pre.arrayBuffer();
    assert.ok(pre.status === 204 || pre.status === 200, `preflight status ${pre.status}`);
    assert.equal(pre.headers.get('access-control-allow-origin'), APP);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/i);
    assert.equal(pre.headers.get('access-control-allow-credentials'), null, 'no credentialed CORS');

    const res = await loginFrom(cors.url, APP);
    const body = (await res.json()) as { error: string };
    assert.equal(res.status, 401);
    assert.equal(body.error, 'invalid_grant');
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.match(res.headers.get('vary') ?? '', /origin/i);

    for (const origin of [EVIL, 'null', `${APP}.evil.example`, 'http://app.example']) {
      const p = await preflight(cors.url, origin);
      await p.arrayBuffer();
      assert.notEqual(p.headers.get('access-control-allow-origin'), origin, `preflight from ${origin}`);
      assert.ok([null, APP].includes(p.headers.get('access-control-allow-origin')), `preflight from ${origin}`);
      const r = await loginFrom(cors.url, origin);
      await r.arrayBuffer();
      assert.ok([null, APP].includes(r.headers.get('access-control-allow-origin')), `response to ${origin}`);
      assert.notEqual(r.headers.get('access-control-allow-origin'), '*');
    }
  });
});
