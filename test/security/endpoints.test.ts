// SPEC §4 standard endpoints through the real server: the RFC 6749 token endpoint,
// RFC 7662 introspection behind an RFC 6750 bearer guard, RFC 8414 metadata, the
// RFC 7517 JWKS and the OpenAPI 3.1 description.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { addUser, login, startServer, type ServerHandle } from '../helpers/server.js';

let server: ServerHandle;
let userPassword: string;
let admin: string;

before(async () => {
  server = await startServer();
  userPassword = await addUser(server, 'ep-user');
  admin = (await login(server.url, server.adminUsername, server.adminPassword)).access_token;
});
after(async () => {
  await server?.stop();
});

async function form(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

const introspect = (token: string, authorization?: string) =>
  form('/oauth2/v1/introspect', { token }, authorization === undefined ? {} : { authorization });

describe('POST /oauth2/v1/token (RFC 6749)', () => {
  test('password grant, then refresh_token grant, as form bodies', async () => {
    const r = await form('/oauth2/v1/token', { grant_type: 'password', username: 'ep-user', password: userPassword });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('pragma'), 'no-cache');
    const next = await form('/oauth2/v1/token', { grant_type: 'refresh_token', refresh_token: r.json.refresh_token as string });
    assert.equal(next.status, 200, next.text);
    assert.notEqual(next.json.refresh_token, r.json.refresh_token, 'rotation');
  });

  test('bad credentials and bad refresh tokens are 400 invalid_grant (§5.2)', async () => {
    for (const fields of [
      { grant_type: 'password', username: 'ep-user', password: 'not-the-password' } as Record<string, string>,
      { grant_type: 'password', username: 'ep-nobody', password: 'not-the-password' },
      { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) },
    ]) {
      const r = await form('/oauth2/v1/token', fields);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'invalid_grant');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  });

  test('an unsupported grant is 400 unsupported_grant_type; a missing field is 400 invalid_request', async () => {
    for (const grant of ['client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      const r = await form('/oauth2/v1/token', { grant_type: grant });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error, 'unsupported_grant_type');
    }
    const r = await form('/oauth2/v1/token', { grant_type: 'password', username: 'ep-user' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_request');
  });

  test('a scope the account lacks is 400 invalid_scope', async () => {
    const r = await form('/oauth2/v1/token', { grant_type: 'password', username: 'ep-user', password: userPassword, scope: 'openid rcauth:admin' });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_scope');
  });
});

describe('POST /oauth2/v1/introspect (RFC 7662, RFC 6750 guard)', () => {
  test('without a token: 401 with the bare challenge, no error attribute (RFC 6750 §3.1)', async () => {
    const r = await introspect('anything');
    assert.equal(r.status, 401, r.text);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="rcauth"');
    assert.equal(r.json.error, 'invalid_token');
  });

  test('with a bad token or a non-bearer scheme: 401 with error="invalid_token"', async () => {
    for (const authorization of ['Bearer not.a.jwt', `Bearer ${admin}x`, 'Basic YWRtaW46YWRtaW4=', 'Bearer']) {
      const r = await introspect('anything', authorization);
      assert.equal(r.status, 401, `${authorization}: ${r.text}`);
      assert.equal(r.json.error, 'invalid_token');
      const challenge = r.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer realm="rcauth", error="invalid_token"/);
      assert.match(challenge, /error_description="[^"]*"/);
    }
  });

  test('with a valid token lacking rcauth:introspect / rcauth:admin: 403 insufficient_scope', async () => {
    const user = await login(server.url, 'ep-user', userPassword);
    const r = await introspect(user.access_token, `Bearer ${user.access_token}`);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error, 'insufficient_scope');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="rcauth", error="insufficient_scope".*scope="rcauth:introspect"/);
  });

  test('an authorised caller gets active:true with the token\'s claims', async () => {
    const user = await login(server.url, 'ep-user', userPassword);
    const r = await introspect(user.access_token, `Bearer ${admin}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const claims = decodeJwt(user.access_token);
    assert.equal(r.json.active, true);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.scope, (claims.scp as string[]).join(' '));
    for (const name of ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'uid', 'auth_time'] as const) assert.equal(r.json[name], claims[name], name);
    assert.equal(r.json.client_id, claims.cid);
    assert.equal(r.json.username, 'ep-user');
  });

  test('a missing token field is 400 invalid_request; an unknown token is active:false', async () => {
    const missing = await form('/oauth2/v1/introspect', {}, { authorization: `Bearer ${admin}` });
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.json.error, 'invalid_request');
    const unknown = await introspect('A'.repeat(43), `Bearer ${admin}`);
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.json, { active: false });
  });
});

describe('discovery', () => {
  test('RFC 8414 metadata under both well-known names', async () => {
    const docs = [];
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      docs.push((await res.json()) as Record<string, unknown>);
    }
    assert.deepEqual(docs[0], docs[1]);
    const doc = docs[0]!;
    assert.equal(doc.issuer, server.url);
    assert.equal(doc.token_endpoint, `${server.url}/oauth2/v1/token`);
    assert.equal(doc.revocation_endpoint, `${server.url}/oauth2/v1/revoke`);
    assert.equal(doc.introspection_endpoint, `${server.url}/oauth2/v1/introspect`);
    assert.equal(doc.jwks_uri, `${server.url}/oauth2/v1/keys`);
    assert.deepEqual([...(doc.grant_types_supported as string[])].sort(), ['password', 'refresh_token']);
  });

  test('RFC 7517 JWKS: public keys only, cacheable, and every issued token verifies against it', async () => {
    const res = await fetch(`${server.url}/oauth2/v1/keys`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
    const jwks = (await res.json()) as JSONWebKeySet;
    assert.ok(jwks.keys.length >= 1);
    for (const key of jwks.keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal((key as Record<string, unknown>)[secret], undefined, `no "${secret}"`);
      assert.equal(typeof key.kid, 'string');
      assert.ok(['RS256', 'ES256'].includes(key.alg ?? ''), `alg ${key.alg}`);
    }
    const user = await login(server.url, 'ep-user', userPassword);
    const { payload, protectedHeader } = await jwtVerify(user.access_token, createLocalJWKSet(jwks), { issuer: server.url, audience: 'api://default' });
    assert.equal(payload.sub, 'ep-user');
    assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid));
  });

  test('/openapi.json is OpenAPI 3.1 and lists every route', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\.1\./);
    const expected: [string, string][] = [
      ...['v130', 'v140', 'v150'].map((v): [string, string] => [`/api/${v}/auth`, 'post']),
      ['/oauth2/v1/token', 'post'], ['/oauth2/v1/revoke', 'post'], ['/oauth2/v1/introspect', 'post'],
      ['/oauth2/v1/keys', 'get'], ['/.well-known/oauth-authorization-server', 'get'], ['/.well-known/openid-configuration', 'get'],
      ['/healthz', 'get'], ['/readyz', 'get'], ['/metrics', 'get'],
    ];
    for (const [path, method] of expected) {
      assert.ok(doc.paths[path], `${path} is described`);
      assert.ok(doc.paths[path]![method], `${method.toUpperCase()} ${path} is described`);
    }
    assert.ok((doc.paths['/oauth2/v1/introspect']!.post as { security?: unknown[] }).security?.length, 'introspection declares its bearer security');
  });
});
