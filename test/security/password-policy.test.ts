// SPEC §5/§6 passwords: at least 12 characters, at most 1024 bytes, used exactly as
// received, common ones refused by `user add` and `user passwd`; hashes made with
// weaker argon2id parameters are upgraded at the next successful login.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

/** A password nobody would guess and no list holds: base64url of random bytes, exactly `n` characters. */
function strong(n: number): string {
  return randomBytes(Math.ceil((n * 3) / 4) + 3).toString('base64url').slice(0, n);
}

const REFUSED: [string, string, RegExp][] = [
  ['a short one (10 characters)', 'Sh0rt-pass', /at least 12 characters/],
  ['a common one (password1234)', 'password1234', /common or breached/],
  ['a common one (qwertyuiop12)', 'qwertyuiop12', /common or breached/],
  ['a common word padded with digits and symbols', 'Iloveyou2024!!', /common or breached/],
  ['one over 1024 bytes (1000 ASCII + 13 two-byte characters)', `${strong(1000)}${'é'.repeat(13)}`, /at most 1024 bytes/],
];

describe('password policy (SPEC §6)', () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const [what, password, message] of REFUSED) {
    test(`user add and user passwd refuse ${what}`, async () => {
      const name = `pp-${randomBytes(4).toString('hex')}`;
      const add = await server.cli(['user', 'add', name, '--password-stdin'], `${password}\n`);
      assert.equal(add.code, 1, `user add exit code; stderr: ${add.stderr}`);
      assert.match(add.stderr, message);
      assert.doesNotMatch(add.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!add.stderr.includes(password), 'the refused password is not echoed');

      const old = await addUser(server, name);
      const passwd = await server.cli(['user', 'passwd', name, '--password-stdin'], `${password}\n`);
      assert.equal(passwd.code, 1, `user passwd exit code; stderr: ${passwd.stderr}`);
      assert.match(passwd.stderr, message);
      // Nothing changed: the old password still works.
      await login(server.url, name, old);
    });
  }

  test('--password-min-length raises the minimum', async () => {
    const r = await server.cli(['user', 'add', 'pp-min', '--password-stdin', '--password-min-length', '20'], `${strong(16)}\n`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /at least 20 characters/);
  });

  test('a password of exactly 1024 bytes is accepted and works; one byte more never logs in (no truncation)', async () => {
    const ascii = strong(1024);
    assert.equal(Buffer.byteLength(ascii), 1024);
    await addUser(server, 'pp-1024', ascii);
    const tokens = await login(server.url, 'pp-1024', ascii);
    assert.equal(tokens.token_type, 'Bearer');
    const longer = await postAuth(server.url, { username: 'pp-1024', password: `${ascii}x` });
    assert.equal(longer.status, 400, longer.text);
    assert.equal(longer.json.error, 'invalid_request');

    // Multi-byte: 1020 ASCII + 2 × "é" (2 bytes each) = 1024 bytes, set through passwd.
    const mixed = `${strong(1020)}éé`;
    assert.equal(Buffer.byteLength(mixed), 1024);
    const r = await server.cli(['user', 'passwd', 'pp-1024', '--password-stdin'], mixed);
    assert.equal(r.code, 0, r.stderr);
    await login(server.url, 'pp-1024', mixed);
    assert.equal((await postAuth(server.url, { username: 'pp-1024', password: ascii })).status, 401);
  });

  test('leading and trailing spaces are part of the password: no trimming', async () => {
    const spaced = `  ${strong(14)} ${strong(6)}  `;
    const add = await server.cli(['user', 'add', 'pp-spaces', '--password-stdin'], `${spaced}\n`);
    assert.equal(add.code, 0, add.stderr);
    await login(server.url, 'pp-spaces', spaced);
    for (const variant of [spaced.trim(), spaced.trimStart(), spaced.trimEnd()]) {
      const r = await postAuth(server.url, { username: 'pp-spaces', password: variant });
      assert.equal(r.status, 401, `"${variant}" must not log in`);
      assert.equal(r.json.error, 'invalid_grant');
    }
    // The same through user passwd.
    const next = ` ${strong(13)} `;
    const passwd = await server.cli(['user', 'passwd', 'pp-spaces', '--password-stdin'], `${next}\n`);
    assert.equal(passwd.code, 0, passwd.stderr);
    await login(server.url, 'pp-spaces', next);
    assert.equal((await postAuth(server.url, { username: 'pp-spaces', password: next.trim() })).status, 401);
  });
});

describe('argon2id parameter upgrade (SPEC §5)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rcauth-rehash-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  function storedHash(username: string): string {
    const db = new Database(join(dataDir, 'rcauth.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT password_hash FROM accounts WHERE username_key = ?').get(username) as { password_hash: string } | undefined;
      assert.ok(row, `account ${username} exists`);
      return row.password_hash;
    } finally {
      db.close();
    }
  }

  test('a hash made with t=2 becomes t=3 at the next successful login after the server is restarted with --argon2-time 3', async () => {
    const weak = ['--argon2-memory', '19456', '--argon2-time', '2'];
    const first = await startServer({ dataDir, args: weak });
    const password = strong(20);
    try {
      const r = await first.cli(['user', 'add', 'upgrader', '--password-stdin', ...weak], password);
      assert.equal(r.code, 0, r.stderr);
      await login(first.url, 'upgrader', password);
    } finally {
      await first.stop();
    }
    assert.match(storedHash('upgrader'), /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const second = await startServer({ dataDir, args: ['--argon2-memory', '19456', '--argon2-time', '3'] });
    try {
      // A failed login does not touch the hash.
      assert.equal((await postAuth(second.url, { username: 'upgrader', password: 'not-the-password' })).status, 401);
      assert.match(storedHash('upgrader'), /t=2,/);
      await login(second.url, 'upgrader', password);
      const upgraded = storedHash('upgrader');
      assert.match(upgraded, /^\$argon2id\$v=19\$m=19456,t=3,p=1\$/);
      // The new hash works, and is not rewritten again.
      await login(second.url, 'upgrader', password);
      assert.equal(storedHash('upgrader'), upgraded);
    } finally {
      await second.stop();
    }
  });
});
