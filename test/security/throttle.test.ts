// SPEC §6 brute force, through the real server: per (username, IP) and per-username
// failure caps kept in the store, back-off that ends by itself, `user unlock`, the
// client IP from X-Forwarded-For only with --trust-proxy, and the per-IP request limit.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { addUser, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

const WRONG = 'not-the-password-0';

/** A login from `ip` (sent as X-Forwarded-For; only counts on a --trust-proxy server). */
function attempt(server: ServerHandle, username: string, password: string, ip?: string) {
  return postAuth(server.url, { username, password }, { headers: ip ? { 'x-forwarded-for': ip } : {} });
}

/** `n` wrong passwords, each asserted to be the ordinary 401 invalid_grant. */
async function fail(server: ServerHandle, username: string, n: number, ip?: string | ((i: number) => string)): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await attempt(server, username, WRONG, typeof ip === 'function' ? ip(i) : ip);
    assert.equal(r.status, 401, `failure ${i + 1} of ${username}: ${r.text}`);
    assert.equal(r.json.error, 'invalid_grant');
  }
}

function assertSlowDown(r: Awaited<ReturnType<typeof postAuth>>, maxSeconds: number): number {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error, 'slow_down');
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description']);
  const retryAfter = r.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^\d+$/, 'Retry-After is a number of seconds');
  const seconds = Number(retryAfter);
  assert.ok(seconds >= 1 && seconds <= maxSeconds, `Retry-After ${seconds} within 1..${maxSeconds}`);
  return seconds;
}

describe('login throttling (SPEC §6)', () => {
  // proxied: --trust-proxy so that X-Forwarded-For simulates client IPs; per-user cap 15 keeps it quick.
  let proxied: ServerHandle;
  // direct: no --trust-proxy (X-Forwarded-For must be ignored).
  let direct: ServerHandle;
  // short: a 2 s window, to watch a block end by itself.
  let short: ServerHandle;
  // limited: the per-IP request limit on (5 per minute).
  let limited: ServerHandle;

  before(async () => {
    [proxied, direct, short, limited] = await Promise.all([
      startServer({ args: ['--trust-proxy', '--throttle-user', '15'] }),
      startServer(),
      startServer({ args: ['--throttle-window', '2'] }),
      startServer({ rateLimit: true, args: ['--rate-limit', '5'] }),
    ]);
  });
  after(async () => {
    await Promise.all([proxied, direct, short, limited].map((s) => s?.stop()));
  });

  test('10 failures for one username from one IP: the 11th attempt is 429 even with the right password; another IP still logs in', async () => {
    const password = await addUser(proxied, 'alice');
    await fail(proxied, 'alice', 10, '10.0.0.1');
    const blocked = await attempt(proxied, 'alice', password, '10.0.0.1');
    assertSlowDown(blocked, 900);
    const elsewhere = await attempt(proxied, 'alice', password, '10.0.0.2');
    assert.equal(elsewhere.status, 200, elsewhere.text);
    assert.equal(elsewhere.json.token_type, 'Bearer');
    // The successful login elsewhere does not lift the block of the first pair.
    assertSlowDown(await attempt(proxied, 'alice', password, '10.0.0.1'), 900);
  });

  test('a username that does not exist is throttled exactly like one that does', async () => {
    const password = await addUser(proxied, 'known-user');
    const seen: { status: number; body: string; retry: string | null }[][] = [[], []];
    for (const [i, name] of ['known-user', 'ghost-user'].entries()) {
      for (let k = 0; k < 11; k++) {
        const r = await attempt(proxied, name, k === 10 ? password : WRONG, '10.0.1.1');
        seen[i]!.push({ status: r.status, body: r.text, retry: r.headers.get('retry-after') === null ? null : 'set' });
      }
    }
    assert.deepEqual(seen[1], seen[0], 'same statuses, bodies and Retry-After presence for known and unknown usernames');
    assert.deepEqual(seen[0]!.map((s) => s.status), [...Array(10).fill(401), 429]);
    assert.match(seen[0]![10]!.body, /"error":"slow_down"/);
  });

  test('the per-username cap across IPs (--throttle-user 15) blocks a fresh IP too', async () => {
    const password = await addUser(proxied, 'erin');
    // One failure from each of 15 addresses: no pair reaches its cap of 10.
    await fail(proxied, 'erin', 15, (i) => `10.0.2.${i + 1}`);
    assertSlowDown(await attempt(proxied, 'erin', password, '10.0.2.200'), 900);
    // Unknown usernames reach the per-username cap the same way.
    await fail(proxied, 'nobody-here', 15, (i) => `10.0.3.${i + 1}`);
    assertSlowDown(await attempt(proxied, 'nobody-here', WRONG, '10.0.3.200'), 900);
  });

  test('a successful login resets the counter of its (username, IP) pair', async () => {
    const password = await addUser(proxied, 'bob');
    await fail(proxied, 'bob', 9, '10.0.4.1');
    assert.equal((await attempt(proxied, 'bob', password, '10.0.4.1')).status, 200);
    // Without the reset this pair would now stand at 9 + 5 = 14 ≥ 10 failures.
    await fail(proxied, 'bob', 5, '10.0.4.1');
    const r = await attempt(proxied, 'bob', password, '10.0.4.1');
    assert.equal(r.status, 200, r.text);
  });

  test('`rcauth user unlock` clears the block', async () => {
    const password = await addUser(proxied, 'carol');
    await fail(proxied, 'carol', 10, '10.0.5.1');
    assertSlowDown(await attempt(proxied, 'carol', password, '10.0.5.1'), 900);
    const unlock = await proxied.cli(['user', 'unlock', 'carol']);
    assert.equal(unlock.code, 0, unlock.stderr);
    const r = await attempt(proxied, 'carol', password, '10.0.5.1');
    assert.equal(r.status, 200, r.text);
  });

  test('`rcauth user unlock` also clears the per-username cap', async () => {
    const password = await addUser(proxied, 'dora');
    await fail(proxied, 'dora', 15, (i) => `10.0.6.${i + 1}`);
    assertSlowDown(await attempt(proxied, 'dora', password, '10.0.6.100'), 900);
    assert.equal((await proxied.cli(['user', 'unlock', 'DORA'])).code, 0, 'usernames ignore case');
    assert.equal((await attempt(proxied, 'dora', password, '10.0.6.100')).status, 200);
  });

  // Regression: unlock listed counters through store.throttleList, which returns at most
  // 1000 rows, newest first, so after a spray the user's blocked pair was never cleared.
  test('`rcauth user unlock` still clears a blocked pair when the store holds 1200 newer counters (a spraying attack)', async () => {
    const password = await addUser(proxied, 'gina');
    await fail(proxied, 'gina', 10, '10.0.7.1');
    assertSlowDown(await attempt(proxied, 'gina', password, '10.0.7.1'), 900);
    // What 1200 sprayed usernames leave behind, written straight into the shared store.
    const db = new Database(join(proxied.dataDir, 'rcauth.db'));
    try {
      db.pragma('busy_timeout = 5000');
      const insert = db.prepare('INSERT OR REPLACE INTO throttle (key, count, window_start) VALUES (?, 1, ?)');
      const now = Date.now() + 1000;
      db.transaction(() => {
        for (let i = 0; i < 1200; i++) insert.run(`ipu:198.18.${i >> 8}.${i & 255}|spray-${i}`, now);
      })();
    } finally {
      db.close();
    }
    assert.equal((await proxied.cli(['user', 'unlock', 'gina'])).code, 0);
    const r = await attempt(proxied, 'gina', password, '10.0.7.1');
    assert.equal(r.status, 200, r.text);
  });

  test('without --trust-proxy, X-Forwarded-For is ignored: rotating it does not escape the pair cap', async () => {
    const password = await addUser(direct, 'dave');
    await fail(direct, 'dave', 10, (i) => `192.0.2.${i + 1}`);
    assertSlowDown(await attempt(direct, 'dave', password, '198.51.100.7'), 900);
  });

  test('the block ends by itself when its window ends (--throttle-window 2)', async () => {
    const password = await addUser(short, 'frank');
    const start = performance.now();
    await fail(short, 'frank', 10);
    const blocked = await attempt(short, 'frank', password);
    // Only meaningful if the ten failures fell into one window.
    if (performance.now() - start < 1800) assertSlowDown(blocked, 2);
    await new Promise((r) => setTimeout(r, 2500));
    const r = await attempt(short, 'frank', password);
    assert.equal(r.status, 200, r.text);
  });

  test('the per-IP request limit (--rate-limit 5) answers 429 slow_down with Retry-After, whatever X-Forwarded-For says', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(limited, `rl-${i}`, WRONG)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const r = await attempt(limited, 'rl-5', WRONG, '203.0.113.9');
    assertSlowDown(r, 60);
    // The RFC token endpoint is limited too (it keeps its own per-IP count of 5 a minute).
    const token = () => fetch(`${limited.url}/oauth2/v1/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.10' },
      body: 'grant_type=password&username=rl-token&password=not-the-password',
    });
    const tokenStatuses: number[] = [];
    for (let i = 0; i < 5; i++) tokenStatuses.push((await token()).status);
    assert.deepEqual(tokenStatuses, [400, 400, 400, 400, 400]);
    const refused = await token();
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: string }).error, 'slow_down');
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    // Non-token routes are not limited.
    assert.equal((await fetch(`${limited.url}/healthz`)).status, 200);
  });
});
