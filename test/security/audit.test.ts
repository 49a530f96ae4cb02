// SPEC §7 `rcauth audit` and issue 3 §8: every security event — logins ok/failed/
// throttled, refresh-token reuse, revocations, account and key changes — is stored
// with time, username, client IP, outcome and request id; --user and --since filter;
// no password or token used here ever shows up in the audit output or the server log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/core/store.js';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

/** What `rcauth audit --json` prints: the stored event with `at` as an ISO time. */
type AuditRow = Omit<AuditEvent, 'at'> & { at: string };

let server: ServerHandle;
/** Every secret this file sends or receives; none may appear in the audit output or the logs. */
const secrets: string[] = [];
/** Request ids of the HTTP calls whose events we look for, by label. */
const requestIds: Record<string, string> = {};
let phaseTwoStart = '';

async function audit(...args: string[]): Promise<{ rows: AuditRow[]; raw: string }> {
  const r = await server.cli(['audit', '--json', '--limit', '1000', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return { rows: JSON.parse(r.stdout) as AuditRow[], raw: r.stdout };
}

function from(ip: string) {
  return { 'x-forwarded-for': ip };
}

before(async () => {
  server = await startServer({ args: ['--trust-proxy'] });
  secrets.push(server.adminPassword);

  // Phase one: account creation and logins.
  const pw = await addUser(server, 'au-alice');
  secrets.push(pw);
  const ok = await postAuth(server.url, { username: 'au-alice', password: pw }, { headers: from('10.20.0.1') });
  assert.equal(ok.status, 200);
  requestIds.loginOk = ok.headers.get('x-request-id')!;
  secrets.push(ok.json.access_token as string, ok.json.refresh_token as string);

  const wrong = 'Wrong-But-Secret-Guess-1';
  secrets.push(wrong);
  const failed = await postAuth(server.url, { username: 'au-alice', password: wrong }, { headers: from('10.20.0.2') });
  assert.equal(failed.status, 401);
  requestIds.loginFailed = failed.headers.get('x-request-id')!;

  for (let i = 0; i < 10; i++) await postAuth(server.url, { username: 'au-alice', password: wrong }, { headers: from('10.20.0.3') });
  const throttled = await postAuth(server.url, { username: 'au-alice', password: pw }, { headers: from('10.20.0.3') });
  assert.equal(throttled.status, 429);
  requestIds.loginThrottled = throttled.headers.get('x-request-id')!;

  await new Promise((r) => setTimeout(r, 30));
  phaseTwoStart = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 30));

  // Phase two: reuse, revocations, account and key changes.
  const session = await login(server.url, 'au-alice', pw);
  secrets.push(session.access_token, session.refresh_token);
  const rotated = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: session.refresh_token }, { headers: from('10.20.0.4') });
  assert.equal(rotated.status, 200);
  secrets.push(rotated.json.access_token as string, rotated.json.refresh_token as string);
  const reuse = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: session.refresh_token }, { headers: from('10.20.0.5') });
  assert.equal(reuse.status, 401);
  requestIds.reuse = reuse.headers.get('x-request-id')!;

  const other = await login(server.url, 'au-alice', pw);
  secrets.push(other.access_token, other.refresh_token);
  const revoke = await fetch(`${server.url}/oauth2/v1/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...from('10.20.0.6') },
    body: `token=${other.refresh_token}`,
  });
  assert.equal(revoke.status, 200);
  requestIds.revoke = revoke.headers.get('x-request-id')!;

  const next = 'Brand-New-Secret-Phrase-9';
  secrets.push(next);
  for (const [args, stdin] of [
    [['user', 'passwd', 'au-alice', '--password-stdin'], next],
    [['user', 'revoke', 'au-alice']],
    [['user', 'unlock', 'au-alice']],
    [['user', 'disable', 'au-alice']],
    [['user', 'enable', 'au-alice']],
    [['keys', 'rotate']],
  ] as [string[], string?][]) {
    const r = await server.cli(args, stdin);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const bobPw = await addUser(server, 'au-bob');
  secrets.push(bobPw);
  assert.equal((await server.cli(['user', 'remove', 'au-bob'])).code, 0);
});

after(async () => {
  await server?.stop();
});

function find(rows: AuditRow[], type: string, outcome: string, requestId?: string): AuditRow {
  const row = rows.find((e) => e.type === type && e.outcome === outcome && (requestId === undefined || e.requestId === requestId));
  assert.ok(row, `an audit event ${type}/${outcome}${requestId ? ` for request ${requestId}` : ''} in ${JSON.stringify(rows.map((e) => `${e.type}/${e.outcome}`))}`);
  assert.ok(!Number.isNaN(Date.parse(row.at)), `time of ${type}: ${row.at}`);
  return row;
}

test('HTTP events carry time, username, client IP, outcome and the request id the response named', async () => {
  const { rows } = await audit();
  const cases: [string, string, string, string][] = [
    ['login', 'ok', 'loginOk', '10.20.0.1'],
    ['login', 'failed', 'loginFailed', '10.20.0.2'],
    ['login', 'throttled', 'loginThrottled', '10.20.0.3'],
    ['refresh_reuse', 'detected', 'reuse', '10.20.0.5'],
    ['revoke', 'ok', 'revoke', '10.20.0.6'],
  ];
  for (const [type, outcome, label, ip] of cases) {
    const row = find(rows, type, outcome, requestIds[label]);
    assert.equal(row.clientIp, ip, `${type}/${outcome} client IP`);
    assert.ok(row.accountId || row.username, `${type}/${outcome} names the account`);
    if (type === 'login') assert.equal(row.username?.toLowerCase(), 'au-alice', `${type}/${outcome} username`);
  }
});

test('reuse detection and RFC 7009 revocation name the username too (so `audit --user` finds them)', async () => {
  const { rows } = await audit();
  assert.equal(find(rows, 'refresh_reuse', 'detected', requestIds.reuse).username, 'au-alice');
  assert.equal(find(rows, 'revoke', 'ok', requestIds.revoke).username, 'au-alice');
});

test('account and key changes are recorded with the acting CLI', async () => {
  const { rows } = await audit();
  for (const type of ['account_created', 'password_changed', 'sessions_revoked', 'account_unlocked', 'account_disabled', 'account_enabled', 'account_removed']) {
    const row = find(rows, type, 'ok');
    assert.equal(row.actor, 'cli', `${type} actor`);
    assert.ok(row.username === 'au-alice' || row.username === 'au-bob' || row.username === 'admin', `${type} username ${row.username}`);
  }
  assert.equal(find(rows, 'account_removed', 'ok').username, 'au-bob');
  const rotated = find(rows, 'key_rotated', 'ok');
  assert.equal(typeof rotated.detail?.kid, 'string');
});

test('--user keeps only that username (ignoring case); --since keeps only later events', async () => {
  const all = (await audit()).rows;
  const alice = (await audit('--user', 'AU-ALICE')).rows;
  assert.ok(alice.length > 0);
  assert.ok(alice.every((e) => e.username?.toLowerCase() === 'au-alice'), 'only au-alice');
  assert.ok(all.some((e) => e.username === 'au-bob') && !alice.some((e) => e.username === 'au-bob'));
  find(alice, 'login', 'throttled');
  find(alice, 'password_changed', 'ok');

  const later = (await audit('--since', phaseTwoStart)).rows;
  assert.ok(later.length > 0 && later.length < all.length, `${later.length} of ${all.length}`);
  assert.ok(later.every((e) => e.at >= phaseTwoStart), 'every event at or after --since');
  assert.ok(!later.some((e) => e.requestId === requestIds.loginFailed), 'phase-one events are left out');
  find(later, 'key_rotated', 'ok');
  assert.equal((await audit('--since', '1h')).rows.length, all.length, 'relative --since');

  const bad = await server.cli(['audit', '--since', 'yesterday-ish']);
  assert.equal(bad.code, 2, 'a bad --since is a usage error');
  assert.match(bad.stderr, /--since/);
});

test('no password or token of this test is in the audit output (JSON and text) or the server log', async () => {
  const json = (await audit()).raw;
  const text = await server.cli(['audit', '--limit', '1000']);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(text.stdout.includes('login'), 'the text form lists events');
  const logs = server.logs();
  assert.ok(secrets.length >= 12);
  for (const secret of secrets) {
    for (const [name, haystack] of [['audit --json', json], ['audit', text.stdout], ['server log', logs]] as const) {
      assert.ok(!haystack.includes(secret), `a secret (${secret.slice(0, 6)}…) appears in the ${name}`);
    }
  }
  for (const haystack of [json, text.stdout, logs]) assert.doesNotMatch(haystack, /\$argon2id\$/, 'no password hash');
});
