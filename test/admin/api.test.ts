/**
 * The admin REST API (/admin/v1) through the real server over HTTP: every route,
 * its status and error code, the bearer guard, and the audit trail of the acting
 * admin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';
import { adminCall, adminToken, refreshWith, type Reply } from './helpers.js';

const STRONG = 'Tangerine-Harbour-42-Lamp';

/** Every admin route, with a body where one is needed, for the guard tests. */
const ROUTES: [string, string, unknown?][] = [
  ['GET', '/accounts'],
  ['POST', '/accounts', { username: 'guarded' }],
  ['GET', '/accounts/admin'],
  ['PATCH', '/accounts/admin', { disabled: false }],
  ['POST', '/accounts/admin/password', { password: STRONG }],
  ['POST', '/accounts/admin/unlock'],
  ['DELETE', '/accounts/admin'],
  ['GET', '/accounts/admin/sessions'],
  ['DELETE', '/accounts/admin/sessions'],
  ['DELETE', '/accounts/admin/sessions/00000000-0000-0000-0000-000000000000'],
  ['GET', '/keys'],
  ['POST', '/keys/rotate'],
  ['GET', '/audit'],
  ['GET', '/stats'],
];

function assertError(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error, code, r.text);
  assert.equal(typeof r.json?.error_description, 'string');
}

describe('admin API', () => {
  let server: ServerHandle;
  let admin: string;
  /** A second admin, created through the API: its actions must be audited under its own name. */
  let ops: string;
  let userToken: string;

  before(async () => {
    server = await startServer();
    admin = await adminToken(server);
    const pw = await addUser(server, 'alice');
    userToken = (await login(server.url, 'alice', pw)).access_token;
    const made = await adminCall(server, admin, 'POST', '/accounts', { username: 'ops', password: STRONG, scopes: ['rcauth:admin', 'openid'] });
    assert.equal(made.status, 201, made.text);
    ops = (await login(server.url, 'ops', STRONG)).access_token;
  });
  after(async () => {
    await server?.stop();
  });

  describe('guard', () => {
    it('answers 401 with the bare RFC 6750 challenge to every route without a token', async () => {
      for (const [method, path, body] of ROUTES) {
        const r = await adminCall(server, null, method, path, body);
        assertError(r, 401, 'invalid_token');
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="rcauth"', `${method} ${path}`);
      }
    });

    it('answers 401 invalid_token to a malformed or forged token', async () => {
      const r = await adminCall(server, 'not.a.jwt', 'GET', '/accounts');
      assertError(r, 401, 'invalid_token');
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    });

    it('answers 403 insufficient_scope to every route for a token without rcauth:admin', async () => {
      for (const [method, path, body] of ROUTES) {
        const r = await adminCall(server, userToken, method, path, body);
        assertError(r, 403, 'insufficient_scope');
        assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope", error_description="[^"]+", scope="rcauth:admin"/, `${method} ${path}`);
      }
    });

    it('marks every answer no-store', async () => {
      const r = await adminCall(server, admin, 'GET', '/accounts');
      assert.equal(r.headers.get('cache-control'), 'no-store');
    });
  });

  describe('bodies', () => {
    it('refuses a content type other than JSON with 415', async () => {
      assertError(await adminCall(server, admin, 'POST', '/accounts', undefined, { raw: 'username=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'invalid_request');
    });

    it('refuses malformed JSON, non-objects and invalid UTF-8 with 400', async () => {
      assertError(await adminCall(server, admin, 'POST', '/accounts', undefined, { raw: '{"username":' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', undefined, { raw: '["x"]' }), 400, 'invalid_request');
      const res = await fetch(`${server.url}/admin/v1/accounts`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    });

    it('refuses a body over 64 KiB with 413 and accepts one just under 16 KiB (above the token endpoint limit)', async () => {
      const big = await adminCall(server, admin, 'POST', '/accounts', { username: 'x'.repeat(70 * 1024) });
      assertError(big, 413, 'invalid_request');
      const mid = await adminCall(server, admin, 'PATCH', '/accounts/alice', { scopes: Array.from({ length: 60 }, (_, i) => `s${i}-${'y'.repeat(120)}`) });
      assert.equal(mid.status, 200, mid.text);
      await adminCall(server, admin, 'PATCH', '/accounts/alice', { scopes: ['openid', 'offline_access', 'profile'] });
    });

    it('refuses unknown members instead of ignoring them (a typo must not pass silently)', async () => {
      const typo = await adminCall(server, admin, 'PATCH', '/accounts/alice', { disable: true });
      assertError(typo, 400, 'invalid_request');
      assert.match(typo.json.error_description, /unknown member "disable"/);
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: 'typo', scope: ['openid'] }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/accounts?serach=a'), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/audit?user=a'), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/accounts/typo'), 404, 'not_found');
    });

    it('names the field a schema refuses', async () => {
      const r = await adminCall(server, admin, 'POST', '/accounts', { username: 'x', scopes: { openid: true } });
      assertError(r, 400, 'invalid_request');
      assert.match(r.json.error_description, /scopes/);
    });
  });

  describe('accounts', () => {
    it('lists accounts with search and paging, never a password hash', async () => {
      const all = await adminCall(server, admin, 'GET', '/accounts');
      assert.equal(all.status, 200);
      assert.deepEqual(all.json.accounts.map((a: { username: string }) => a.username), ['admin', 'alice', 'ops']);
      assert.doesNotMatch(all.text, /argon2|passwordHash/);
      const first = await adminCall(server, admin, 'GET', '/accounts?limit=2');
      assert.equal(first.json.accounts.length, 2);
      assert.equal(first.json.hasMore, true);
      const second = await adminCall(server, admin, 'GET', '/accounts?limit=2&offset=2');
      assert.deepEqual(second.json.accounts.map((a: { username: string }) => a.username), ['ops']);
      assert.equal(second.json.hasMore, false);
      const found = await adminCall(server, admin, 'GET', '/accounts?search=LIC');
      assert.deepEqual(found.json.accounts.map((a: { username: string }) => a.username), ['alice']);
      assertError(await adminCall(server, admin, 'GET', '/accounts?limit=0'), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/accounts?limit=1000'), 400, 'invalid_request');
    });

    it('creates an account with a generated password, returned once, that logs in', async () => {
      const r = await adminCall(server, admin, 'POST', '/accounts', { username: 'Gen.User' });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.account.username, 'Gen.User');
      assert.deepEqual(r.json.account.scopes, ['openid', 'offline_access', 'profile']);
      assert.equal(typeof r.json.password, 'string');
      assert.ok(r.json.password.length >= 20);
      await login(server.url, 'gen.user', r.json.password);
      const again = await adminCall(server, admin, 'GET', '/accounts/Gen.User');
      assert.equal(again.json.password, undefined);
    });

    it('creates an account with a given password and scopes, and does not echo the password', async () => {
      const r = await adminCall(server, admin, 'POST', '/accounts', { username: 'given', password: STRONG, scopes: ['openid', 'reports:read'] });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.password, undefined);
      assert.deepEqual(r.json.account.scopes, ['openid', 'reports:read']);
      await login(server.url, 'given', STRONG);
    });

    it('refuses an existing username (ignoring case) with 409 conflict', async () => {
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: 'ALICE' }), 409, 'conflict');
    });

    it('refuses bad input with 400 invalid_request and the policy message', async () => {
      const short = await adminCall(server, admin, 'POST', '/accounts', { username: 'weak', password: 'short' });
      assertError(short, 400, 'invalid_request');
      assert.match(short.json.error_description, /12 characters/);
      const common = await adminCall(server, admin, 'POST', '/accounts', { username: 'weak', password: 'password1234' });
      assertError(common, 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: 'weak', password: '' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { password: STRONG }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: '' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: ' padded ' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: 'weak', scopes: ['has space'] }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts', { username: 'weak', password: 'é'.repeat(600) }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/accounts/weak'), 404, 'not_found');
    });

    it('reads one account, also by a name with a slash; unknown is 404', async () => {
      assert.equal((await adminCall(server, admin, 'POST', '/accounts', { username: 'team/a b' })).status, 201);
      const r = await adminCall(server, admin, 'GET', `/accounts/${encodeURIComponent('team/a b')}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.username, 'team/a b');
      assertError(await adminCall(server, admin, 'GET', '/accounts/nobody'), 404, 'not_found');
    });

    it('disables (ending sessions) and enables an account', async () => {
      await adminCall(server, admin, 'POST', '/accounts', { username: 'dora', password: STRONG });
      const session = await login(server.url, 'dora', STRONG);
      const off = await adminCall(server, admin, 'PATCH', '/accounts/dora', { disabled: true });
      assert.equal(off.status, 200, off.text);
      assert.equal(off.json.disabled, true);
      assertError(await postAuth(server.url, { username: 'dora', password: STRONG }) as unknown as Reply, 401, 'invalid_grant');
      assertError(await refreshWith(server, session.refresh_token), 401, 'invalid_grant');
      const on = await adminCall(server, admin, 'PATCH', '/accounts/dora', { disabled: false });
      assert.equal(on.json.disabled, false);
      await login(server.url, 'dora', STRONG);
    });

    it('sets scopes; an empty patch, a bad scope and an unknown account are refused', async () => {
      const r = await adminCall(server, admin, 'PATCH', '/accounts/dora', { scopes: ['openid', 'reports:write'] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.scopes, ['openid', 'reports:write']);
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/dora', {}), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/dora', { scopes: ['a"b'] }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/dora', { disabled: 'yes' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/nobody', { disabled: true }), 404, 'not_found');
    });

    it('keeps an admin from locking themselves out (409), while another admin may act', async () => {
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/ADMIN', { disabled: true }), 409, 'conflict');
      assertError(await adminCall(server, admin, 'PATCH', '/accounts/admin', { scopes: ['openid'] }), 409, 'conflict');
      assertError(await adminCall(server, admin, 'DELETE', '/accounts/admin'), 409, 'conflict');
      const r = await adminCall(server, ops, 'PATCH', '/accounts/admin', { scopes: ['rcauth:admin', 'openid', 'offline_access', 'profile'] });
      assert.equal(r.status, 200, r.text);
    });

    it('sets a new password, which ends the sessions; the policy applies', async () => {
      const session = await login(server.url, 'dora', STRONG);
      const next = 'Violet-Compass-97-River';
      const r = await adminCall(server, admin, 'POST', '/accounts/dora/password', { password: next });
      assert.equal(r.status, 204, r.text);
      assertError(await refreshWith(server, session.refresh_token), 401, 'invalid_grant');
      assert.equal((await postAuth(server.url, { username: 'dora', password: STRONG })).status, 401);
      await login(server.url, 'dora', next);
      assertError(await adminCall(server, admin, 'POST', '/accounts/dora/password', { password: '' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts/dora/password', { password: 'short' }), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts/dora/password', {}), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts/dora/password'), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'POST', '/accounts/nobody/password', { password: next }), 404, 'not_found');
    });

    it('unlocks a throttled username, which the dashboard lists while it is blocked', async () => {
      await adminCall(server, admin, 'POST', '/accounts', { username: 'tess', password: STRONG });
      for (let i = 0; i < 10; i++) assert.equal((await postAuth(server.url, { username: 'tess', password: 'wrong-password-123' })).status, 401);
      assert.equal((await postAuth(server.url, { username: 'tess', password: STRONG })).status, 429);
      const stats = await adminCall(server, admin, 'GET', '/stats');
      assert.deepEqual(stats.json.throttled.map((t: { username: string; clientIp: string | null }) => [t.username, t.clientIp]), [['tess', '127.0.0.1']]);
      assert.ok(stats.json.totals.failed >= 10);
      const r = await adminCall(server, admin, 'POST', '/accounts/tess/unlock');
      assert.equal(r.status, 204, r.text);
      await login(server.url, 'tess', STRONG);
      assert.deepEqual((await adminCall(server, admin, 'GET', '/stats')).json.throttled, []);
      // Unknown usernames are counted like known ones (SPEC §6), so they can be unlocked too.
      assert.equal((await adminCall(server, admin, 'POST', '/accounts/ghost/unlock')).status, 204);
    });

    it('removes an account, ending its sessions; unknown is 404', async () => {
      await adminCall(server, admin, 'POST', '/accounts', { username: 'gone', password: STRONG });
      const session = await login(server.url, 'gone', STRONG);
      assert.equal((await adminCall(server, admin, 'DELETE', '/accounts/gone')).status, 204);
      assertError(await adminCall(server, admin, 'GET', '/accounts/gone'), 404, 'not_found');
      assertError(await refreshWith(server, session.refresh_token), 401, 'invalid_grant');
      assertError(await adminCall(server, admin, 'DELETE', '/accounts/gone'), 404, 'not_found');
    });
  });

  describe('sessions', () => {
    it('lists live sessions with client IP and user agent, never a token hash', async () => {
      await adminCall(server, admin, 'POST', '/accounts', { username: 'sam', password: STRONG });
      await postAuth(server.url, { username: 'sam', password: STRONG }, { headers: { 'user-agent': 'report-runner/1.0' } });
      const r = await adminCall(server, admin, 'GET', '/accounts/sam/sessions');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.sessions.length, 1);
      const s = r.json.sessions[0];
      assert.equal(s.clientIp, '127.0.0.1');
      assert.equal(s.userAgent, 'report-runner/1.0');
      for (const k of ['id', 'createdAt', 'lastUsedAt', 'expiresAt']) assert.ok(s[k], k);
      assert.doesNotMatch(r.text, /currentHash|previousHash|grace/i);
      assertError(await adminCall(server, admin, 'GET', '/accounts/nobody/sessions'), 404, 'not_found');
    });

    it('revokes one session: its refresh is refused, the other session lives', async () => {
      const a = await login(server.url, 'sam', STRONG);
      const b = await login(server.url, 'sam', STRONG);
      const list = (await adminCall(server, admin, 'GET', '/accounts/sam/sessions')).json.sessions as { id: string }[];
      assert.equal(list.length, 3);
      const newest = list[0]!.id;
      assert.equal((await adminCall(server, admin, 'DELETE', `/accounts/sam/sessions/${newest}`)).status, 204);
      assertError(await refreshWith(server, b.refresh_token), 401, 'invalid_grant');
      assert.equal((await refreshWith(server, a.refresh_token)).status, 200);
      assertError(await adminCall(server, admin, 'DELETE', `/accounts/sam/sessions/${newest}`), 404, 'not_found');
      assertError(await adminCall(server, admin, 'DELETE', '/accounts/alice/sessions/' + list[1]!.id), 404, 'not_found');
    });

    it('revokes all sessions: refreshes refused, access tokens inactive', async () => {
      const s = await login(server.url, 'sam', STRONG);
      const r = await adminCall(server, admin, 'DELETE', '/accounts/sam/sessions');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.revoked, 3);
      assertError(await refreshWith(server, s.refresh_token), 401, 'invalid_grant');
      const intro = await fetch(`${server.url}/oauth2/v1/introspect`, {
        method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: s.access_token }),
      });
      assert.deepEqual(await intro.json(), { active: false });
      assert.deepEqual((await adminCall(server, admin, 'GET', '/accounts/sam/sessions')).json.sessions, []);
    });
  });

  describe('keys', () => {
    it('lists the keys and rotates: the new kid signs, the old one stays published', async () => {
      const before = await adminCall(server, admin, 'GET', '/keys');
      assert.equal(before.status, 200);
      const oldKid = before.json.keys.find((k: { status: string }) => k.status === 'active').kid;
      const r = await adminCall(server, admin, 'POST', '/keys/rotate');
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.status, 'active');
      assert.notEqual(r.json.kid, oldKid);
      const after = (await adminCall(server, admin, 'GET', '/keys')).json.keys as { kid: string; status: string }[];
      assert.deepEqual(after.map((k) => [k.kid, k.status]).slice(0, 2), [[r.json.kid, 'active'], [oldKid, 'retired']]);
      const jwks = (await (await fetch(`${server.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
      assert.ok(jwks.keys.some((k) => k.kid === oldKid) && jwks.keys.some((k) => k.kid === r.json.kid));
      const token = (await login(server.url, 'alice', 'pw-alice-Secure-123')).access_token;
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid, r.json.kid);
    });
  });

  describe('audit', () => {
    it('records every admin action with the acting admin', async () => {
      const events = (await adminCall(server, admin, 'GET', '/audit?limit=200')).json.events as { type: string; actor: string | null; username: string | null }[];
      const by = (type: string, username?: string) => events.filter((e) => e.type === type && (username === undefined || e.username === username)).map((e) => e.actor);
      assert.deepEqual(by('account_created', 'ops'), ['admin']);
      assert.deepEqual(by('account_created', 'dora'), ['admin']);
      assert.deepEqual(by('scopes_changed', 'admin'), ['ops']);
      assert.deepEqual(by('account_disabled', 'dora'), ['admin']);
      assert.deepEqual(by('account_enabled', 'dora'), ['admin']);
      assert.deepEqual(by('password_changed', 'dora'), ['admin']);
      assert.deepEqual(by('account_unlocked', 'tess'), ['admin']);
      assert.deepEqual(by('account_removed', 'gone'), ['admin']);
      assert.deepEqual(by('sessions_revoked', 'sam'), ['admin']);
      assert.deepEqual(by('revoke', 'sam'), ['admin']);
      assert.deepEqual(by('key_rotated'), ['admin']);
    });

    it('audits under the name of whichever admin acts', async () => {
      assert.equal((await adminCall(server, ops, 'POST', '/keys/rotate')).status, 201);
      const r = await adminCall(server, admin, 'GET', '/audit?type=key_rotated&limit=1');
      assert.equal(r.json.events[0].actor, 'ops');
      assert.equal(r.json.events[0].clientIp, '127.0.0.1');
      assert.match(r.json.events[0].requestId, /^[0-9a-f-]{36}$/);
    });

    it('filters by username (ignoring case), type and time, and pages', async () => {
      const mine = await adminCall(server, admin, 'GET', '/audit?username=DORA&type=login');
      assert.equal(mine.status, 200);
      assert.ok(mine.json.events.length >= 3);
      assert.ok(mine.json.events.every((e: { username: string; type: string }) => e.username === 'dora' && e.type === 'login'));
      const p1 = await adminCall(server, admin, 'GET', '/audit?limit=2');
      const p2 = await adminCall(server, admin, 'GET', '/audit?limit=2&offset=2');
      assert.equal(p1.json.hasMore, true);
      assert.notDeepEqual(p1.json.events, p2.json.events);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.deepEqual((await adminCall(server, admin, 'GET', `/audit?since=${future}`)).json.events, []);
      const past = new Date(Date.now() - 3_600_000).toISOString();
      assert.deepEqual((await adminCall(server, admin, 'GET', `/audit?until=${past}`)).json.events, []);
      assertError(await adminCall(server, admin, 'GET', '/audit?since=yesterday'), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', `/audit?since=${future}&until=${past}`), 400, 'invalid_request');
      assertError(await adminCall(server, admin, 'GET', '/audit?limit=-1'), 400, 'invalid_request');
    });
  });

  describe('stats', () => {
    it('counts logins per hour over 24 hours', async () => {
      await postAuth(server.url, { username: 'alice', password: 'not-her-password-1' });
      const r = await adminCall(server, admin, 'GET', '/stats');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.bucketSeconds, 3600);
      assert.equal(r.json.logins.length, 24);
      const last = r.json.logins.at(-1);
      assert.ok(Date.parse(last.start) <= Date.now() && Date.now() - Date.parse(last.start) < 3_600_000);
      // The last two hours: this file may have started just before an hour boundary.
      const recent = r.json.logins.slice(-2).reduce((t: { ok: number; failed: number }, b: { ok: number; failed: number }) => ({ ok: t.ok + b.ok, failed: t.failed + b.failed }), { ok: 0, failed: 0 });
      assert.ok(recent.ok >= 5 && recent.failed >= 11, JSON.stringify(recent));
      const sum = (k: 'ok' | 'failed' | 'throttled') => r.json.logins.reduce((n: number, b: Record<string, number>) => n + b[k]!, 0);
      assert.deepEqual(r.json.totals, { ok: sum('ok'), failed: sum('failed'), throttled: sum('throttled') });
      assert.ok(r.json.totals.throttled >= 1);
      assert.equal(r.json.truncated, false);
    });
  });

  describe('OpenAPI', () => {
    it('describes every admin route, tagged admin and secured by bearer', async () => {
      const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>> };
      for (const [method, path] of ROUTES) {
        const template = `/admin/v1${path.replace('/admin/sessions/00000000-0000-0000-0000-000000000000', '/{username}/sessions/{id}').replace(/\/accounts\/admin/, '/accounts/{username}')}`;
        const op = doc.paths[template]?.[method.toLowerCase()];
        assert.ok(op, `${method} ${template} missing from /openapi.json`);
        assert.deepEqual(op.tags, ['admin']);
        assert.deepEqual(op.security, [{ bearer: [] }]);
      }
      assert.equal(doc.paths['/admin'], undefined, 'the console page is not an API route');
    });
  });
});
