// SPEC §5 revocation: `user passwd|disable|remove|revoke` end every refresh family of
// the account and make its earlier access tokens inactive (a per-account not-before
// time), while tokens issued afterwards are live; RFC 7009 /oauth2/v1/revoke ends a session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

let server: ServerHandle;
/** A token of an account holding only rcauth:introspect (and no admin rights). */
let introspector: string;

before(async () => {
  server = await startServer();
  const pw = await addUser(server, 'introspector', undefined, 'rcauth:introspect');
  introspector = (await login(server.url, 'introspector', pw)).access_token;
});
after(async () => {
  await server?.stop();
});

async function form(path: string, fields: Record<string, string>, bearer?: string) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> };
}

async function active(accessToken: string): Promise<boolean> {
  const r = await form('/oauth2/v1/introspect', { token: accessToken }, introspector);
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.json.active, 'boolean');
  if (r.json.active === false) assert.deepEqual(r.json, { active: false }, 'an inactive answer says nothing more (RFC 7662 §2.2)');
  return r.json.active as boolean;
}

async function assertRefreshRefused(refreshToken: string): Promise<void> {
  const r = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: refreshToken });
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.error, 'invalid_grant');
}

async function cli(...args: string[]): Promise<void> {
  const r = await server.cli(args);
  assert.equal(r.code, 0, `rcauth ${args.join(' ')}: ${r.stderr}`);
}

describe('account-wide revocation (SPEC §5)', () => {
  test('user passwd: refresh tokens refused, earlier access tokens inactive, a token issued afterwards active', async () => {
    const pw = await addUser(server, 'rv-passwd');
    const [a, b] = [await login(server.url, 'rv-passwd', pw), await login(server.url, 'rv-passwd', pw)];
    assert.equal(await active(a.access_token), true);
    const next = 'Another-Long-Secret-77';
    const r = await server.cli(['user', 'passwd', 'rv-passwd', '--password-stdin'], next);
    assert.equal(r.code, 0, r.stderr);
    await assertRefreshRefused(a.refresh_token);
    await assertRefreshRefused(b.refresh_token);
    assert.equal(await active(a.access_token), false);
    assert.equal(await active(b.access_token), false);
    assert.equal((await postAuth(server.url, { username: 'rv-passwd', password: pw })).status, 401, 'the old password is gone');
    const fresh = await login(server.url, 'rv-passwd', next);
    assert.equal(await active(fresh.access_token), true);
    const rotated = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: fresh.refresh_token });
    assert.equal(rotated.status, 200, rotated.text);
    assert.equal(await active(rotated.json.access_token as string), true);
  });

  test('user disable: sessions end and stay ended after user enable; a new login after enable is active', async () => {
    const pw = await addUser(server, 'rv-disable');
    const a = await login(server.url, 'rv-disable', pw);
    await cli('user', 'disable', 'rv-disable');
    await assertRefreshRefused(a.refresh_token);
    assert.equal(await active(a.access_token), false);
    const refused = await postAuth(server.url, { username: 'rv-disable', password: pw });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_grant');
    await cli('user', 'enable', 'rv-disable');
    assert.equal(await active(a.access_token), false, 'enabling does not revive tokens issued before the disable');
    await assertRefreshRefused(a.refresh_token);
    const fresh = await login(server.url, 'rv-disable', pw);
    assert.equal(await active(fresh.access_token), true);
  });

  test('user remove: tokens die; an account re-created under the same name does not revive them', async () => {
    const pw = await addUser(server, 'rv-remove');
    const a = await login(server.url, 'rv-remove', pw);
    await cli('user', 'remove', 'rv-remove');
    await assertRefreshRefused(a.refresh_token);
    assert.equal(await active(a.access_token), false);
    await addUser(server, 'rv-remove', pw);
    assert.equal(await active(a.access_token), false, 'the new account has a new uid');
    await assertRefreshRefused(a.refresh_token);
    const fresh = await login(server.url, 'rv-remove', pw);
    assert.equal(await active(fresh.access_token), true);
  });

  test('user revoke: every session of the account ends, other accounts are untouched', async () => {
    const pw = await addUser(server, 'rv-revoke');
    const other = await addUser(server, 'rv-bystander');
    const sessions = [await login(server.url, 'rv-revoke', pw), await login(server.url, 'rv-revoke', pw)];
    const bystander = await login(server.url, 'rv-bystander', other);
    await cli('user', 'revoke', 'rv-revoke');
    for (const s of sessions) {
      await assertRefreshRefused(s.refresh_token);
      assert.equal(await active(s.access_token), false);
    }
    assert.equal(await active(bystander.access_token), true);
    const kept = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: bystander.refresh_token });
    assert.equal(kept.status, 200, kept.text);
    const fresh = await login(server.url, 'rv-revoke', pw);
    assert.equal(await active(fresh.access_token), true, 'a token issued after the revocation is active');
  });
});

describe('RFC 7009 /oauth2/v1/revoke', () => {
  test('revoking a refresh token ends its session; other sessions of the account live on', async () => {
    const pw = await addUser(server, 'rv-rfc');
    const [a, b] = [await login(server.url, 'rv-rfc', pw), await login(server.url, 'rv-rfc', pw)];
    const r = await form('/oauth2/v1/revoke', { token: a.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    await assertRefreshRefused(a.refresh_token);
    const again = await form('/oauth2/v1/revoke', { token: a.refresh_token });
    assert.equal(again.status, 200, 'revoking twice is fine');
    const other = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: b.refresh_token });
    assert.equal(other.status, 200, other.text);
  });

  test('unknown, malformed and access tokens still answer 200 (RFC 7009 §2.2)', async () => {
    for (const token of ['x'.repeat(43), 'not a token at all', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln']) {
      const r = await form('/oauth2/v1/revoke', { token });
      assert.equal(r.status, 200, `${token}: ${r.text}`);
    }
    const pw = await addUser(server, 'rv-rfc-at');
    const a = await login(server.url, 'rv-rfc-at', pw);
    assert.equal((await form('/oauth2/v1/revoke', { token: a.access_token, token_type_hint: 'access_token' })).status, 200);
    assert.equal((await form('/oauth2/v1/revoke', { token: a.access_token })).status, 200);
  });

  test('a revoke request without a token is 400 invalid_request', async () => {
    const r = await form('/oauth2/v1/revoke', {});
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error, 'invalid_request');
  });
});
