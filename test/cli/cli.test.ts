import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addUser, login, postAuth, runCli, startServer, type ServerHandle } from '../helpers/server.js';

describe('rcauth CLI', () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('first start made the admin account with a 0600 password file and never logged the password', async () => {
    const file = join(server.dataDir, 'initial-admin-password');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(server.adminPassword.length >= 20);
    assert.ok(!server.logs().includes(server.adminPassword));
    assert.match(server.logs(), /initial-admin-password/);
    const t = await login(server.url, 'admin', server.adminPassword);
    const scp = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).scp as string[];
    assert.ok(scp.includes('rcauth:admin'));
  });

  it('user add with a generated password prints it once and it works', async () => {
    const r = await server.cli(['user', 'add', 'gen-user', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { username: string; password: string; scopes: string[] };
    assert.equal(out.username, 'gen-user');
    assert.deepEqual(out.scopes, ['openid', 'offline_access', 'profile']);
    await login(server.url, 'gen-user', out.password);
  });

  it('user add --password-stdin --scope, and usernames are unique ignoring case', async () => {
    const r = await server.cli(['user', 'add', 'Carol', '--password-stdin', '--scope', 'openid,reports:read'], 'carol-password-long-1\n');
    assert.equal(r.code, 0, r.stderr);
    const t = await login(server.url, 'carol', 'carol-password-long-1');
    const scp = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).scp;
    assert.deepEqual(scp, ['openid', 'reports:read']);
    const dup = await server.cli(['user', 'add', 'CAROL', '--password-stdin'], 'another-password-22');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /exists already/);
  });

  it('user list shows status, scopes and last login', async () => {
    const r = await server.cli(['user', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { username: string; status: string; lastLoginAt: string | null }[];
    const carol = list.find((a) => a.username === 'Carol')!;
    assert.equal(carol.status, 'active');
    assert.ok(carol.lastLoginAt);
    const text = await server.cli(['user', 'list']);
    assert.match(text.stdout, /USERNAME\s+STATUS/);
  });

  it('user passwd ends sessions and sets the new password', async () => {
    const pw = await addUser(server, 'dave');
    const t = await login(server.url, 'dave', pw);
    const r = await server.cli(['user', 'passwd', 'dave', '--password-stdin'], 'dave-new-password-99');
    assert.equal(r.code, 0, r.stderr);
    const refresh = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(refresh.status, 401);
    assert.equal((await postAuth(server.url, { username: 'dave', password: pw })).status, 401);
    await login(server.url, 'dave', 'dave-new-password-99');
  });

  it('user disable / enable / revoke / remove', async () => {
    const pw = await addUser(server, 'erin');
    const t = await login(server.url, 'erin', pw);
    assert.equal((await server.cli(['user', 'disable', 'erin'])).code, 0);
    assert.equal((await postAuth(server.url, { username: 'erin', password: pw })).status, 401);
    assert.equal((await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token })).status, 401);
    assert.equal((await server.cli(['user', 'enable', 'erin'])).code, 0);
    const t2 = await login(server.url, 'erin', pw);
    const rv = await server.cli(['user', 'revoke', 'erin', '--json']);
    assert.equal(rv.code, 0);
    assert.equal(JSON.parse(rv.stdout).sessionsRevoked, 1);
    assert.equal((await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: t2.refresh_token })).status, 401);
    assert.equal((await server.cli(['user', 'remove', 'erin'])).code, 0);
    assert.equal((await postAuth(server.url, { username: 'erin', password: pw })).status, 401);
    const gone = await server.cli(['user', 'remove', 'erin']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No account named "erin"/);
  });

  it('keys list and rotate: the new key signs, the old one stays in the JWKS', async () => {
    const before = JSON.parse((await server.cli(['keys', 'list', '--json'])).stdout) as { kid: string; status: string }[];
    assert.equal(before.filter((k) => k.status === 'active').length, 1);
    const rot = await server.cli(['keys', 'rotate', '--json']);
    assert.equal(rot.code, 0, rot.stderr);
    const { kid } = JSON.parse(rot.stdout) as { kid: string };
    const after = JSON.parse((await server.cli(['keys', 'list', '--json'])).stdout) as { kid: string; status: string }[];
    assert.equal(after.find((k) => k.kid === kid)?.status, 'active');
    assert.equal(after.find((k) => k.kid === before[0]!.kid)?.status, 'retired');
    // The running server picks the new key up within its key refresh interval (5 s).
    const deadline = Date.now() + 10_000;
    let header: { kid?: string } = {};
    while (Date.now() < deadline) {
      const t = await login(server.url, 'admin', server.adminPassword);
      header = JSON.parse(Buffer.from(t.access_token.split('.')[0]!, 'base64url').toString());
      if (header.kid === kid) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(header.kid, kid);
    const jwks = (await (await fetch(`${server.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
    assert.deepEqual(new Set(jwks.keys.map((k) => k.kid)), new Set([kid, before[0]!.kid]));
  });

  it('migrate is idempotent', async () => {
    const r = await server.cli(['migrate', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { migrated: true, dialect: 'sqlite' });
  });

  it('exit code 2 for usage and configuration errors, naming the setting', async () => {
    const unknown = await server.cli(['user', 'frobnicate']);
    assert.equal(unknown.code, 2);
    const noCommand = await runCli(['nope']);
    assert.equal(noCommand.code, 2);
    const badPort = await runCli(['serve', '--port', 'eighty']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port \(RCAUTH_PORT\)/);
    const badEnv = await runCli(['serve'], { env: { RCAUTH_ACCESS_TTL: '-5' } });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /RCAUTH_ACCESS_TTL/);
    const badUrl = await runCli(['user', 'list', '--database-url', 'mysql://x']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--database-url/);
    const noStdin = await server.cli(['user', 'add', 'frank', '--password-stdin'], '');
    assert.equal(noStdin.code, 2);
    for (const r of [unknown, badPort, badEnv, badUrl, noStdin]) assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  });

  it('flag beats environment beats default', async () => {
    const r = await runCli(['user', 'list', '--json', '--data-dir', server.dataDir], { env: { RCAUTH_DATA_DIR: '/nonexistent/should-not-be-used' } });
    assert.equal(r.code, 0, r.stderr);
    const viaEnv = await runCli(['user', 'list', '--json'], { env: { RCAUTH_DATA_DIR: server.dataDir } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.deepEqual(JSON.parse(viaEnv.stdout), JSON.parse(r.stdout));
  });

  it('serve --help lists every setting', async () => {
    const r = await runCli(['serve', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--host', '--port', '--issuer', '--audience', '--access-ttl', '--upstream', '--trust-proxy', '--tls-cert', '--tls-key', '--data-dir', '--database-url']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });
});

describe('restart', () => {
  it('keeps accounts, keys and live sessions across a restart (and a kill -9)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rcauth-restart-'));
    try {
      const first = await startServer({ dataDir });
      const pw = await addUser(first, 'grace');
      const t = await login(first.url, 'grace', pw);
      const kids = (await (await fetch(`${first.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
      assert.equal(await first.stop(), 0, 'SIGTERM exits 0');

      const second = await startServer({ dataDir });
      assert.equal(second.adminPassword, first.adminPassword, 'no new admin on restart');
      const kids2 = (await (await fetch(`${second.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
      assert.deepEqual(kids2, kids);
      const r = await postAuth(second.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
      assert.equal(r.status, 200, r.text);
      await second.kill('SIGKILL');

      const third = await startServer({ dataDir });
      const r2 = await postAuth(third.url, { grant_type: 'refresh_token', refresh_token: String(r.json.refresh_token) });
      assert.equal(r2.status, 200, 'the rotation acknowledged before kill -9 survived');
      await login(third.url, 'grace', pw);
      await third.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
