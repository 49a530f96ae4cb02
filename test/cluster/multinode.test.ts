import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { addUser, login, postAuth, runCli, startServer, type ServerHandle } from '../helpers/server.js';

const ISSUER = 'http://rcauth.cluster.test';

async function introspect(node: ServerHandle, bearer: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.url}/oauth2/v1/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

describe('three nodes on one PostgreSQL', () => {
  let pg: TestPostgres;
  let databaseUrl: string;
  let a: ServerHandle;
  let b: ServerHandle;
  let c: ServerHandle;
  let password: string;

  before(async () => {
    pg = await startPostgres();
    databaseUrl = await pg.createDatabase('multinode');
    // Started together: migrations and the first-start bootstrap race on purpose.
    [a, b, c] = await Promise.all([0, 1, 2].map(() => startServer({ databaseUrl, args: ['--issuer', ISSUER] })));
    password = await addUser(a, 'nina');
  });
  after(async () => {
    await Promise.all([a, b, c].map((n) => n?.stop()));
    await pg?.stop();
  });

  it('bootstraps exactly one admin, and only its node announces a password', async () => {
    const announced = [a, b, c].filter((n) => n.adminPassword !== '');
    assert.equal(announced.length, 1);
    await login(a.url, 'admin', announced[0]!.adminPassword);
  });

  it('logs in on A, refreshes on B, detects reuse on C', async () => {
    const t = await login(a.url, 'nina', password);
    const r = await postAuth(b.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(r.status, 200);
    const reuse = await postAuth(c.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.json.error, 'invalid_grant');
    const newest = await postAuth(a.url, { grant_type: 'refresh_token', refresh_token: String(r.json.refresh_token) });
    assert.equal(newest.status, 401, 'the family ended on every node');
    const audit = await runCli(['audit', '--type', 'refresh_reuse', '--json'], { databaseUrl });
    assert.ok((JSON.parse(audit.stdout) as unknown[]).length >= 1);
  });

  it('revokes on C and is refused on A', async () => {
    const admin = [a, b, c].find((n) => n.adminPassword !== '')!;
    const adminToken = (await login(a.url, 'admin', admin.adminPassword)).access_token;
    const t = await login(a.url, 'nina', password);
    const rv = await fetch(`${c.url}/oauth2/v1/revoke`, { method: 'POST', body: new URLSearchParams({ token: t.refresh_token }) });
    assert.equal(rv.status, 200);
    assert.equal((await postAuth(a.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token })).status, 401);

    const t2 = await login(b.url, 'nina', password);
    assert.equal((await introspect(a, adminToken, t2.access_token)).active, true);
    assert.equal((await c.cli(['user', 'revoke', 'nina'])).code, 0);
    assert.equal((await introspect(a, adminToken, t2.access_token)).active, false, 'introspection on A sees the revocation made through C');
  });

  it('shares brute-force counters between nodes', async () => {
    const nodes = [a, b, c];
    for (let i = 0; i < 10; i++) {
      const r = await postAuth(nodes[i % 3]!.url, { username: 'nina', password: 'wrong-password-here' });
      assert.equal(r.status, 401);
    }
    const blocked = await postAuth(c.url, { username: 'nina', password });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.json.error, 'slow_down');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.equal((await a.cli(['user', 'unlock', 'nina'])).code, 0);
    assert.equal((await postAuth(b.url, { username: 'nina', password })).status, 200);
  });

  it('serves a key rotation made on one node from every node within 10 s', async () => {
    const rotated = await b.cli(['keys', 'rotate', '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const { kid } = JSON.parse(rotated.stdout) as { kid: string };
    const start = Date.now();
    const seen = new Set<string>();
    while (seen.size < 3 && Date.now() - start < 10_000) {
      for (const node of [a, b, c]) {
        const jwks = (await (await fetch(`${node.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
        if (jwks.keys.some((k) => k.kid === kid)) seen.add(node.url);
      }
      if (seen.size < 3) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(seen.size, 3, `every node serves the new key (after ${Date.now() - start} ms)`);
    const t = await login(c.url, 'nina', password);
    assert.equal(JSON.parse(Buffer.from(t.access_token.split('.')[0]!, 'base64url').toString()).kid, kid);
  });

  it('lets exactly one of concurrent refreshes on different nodes win, over 50 races', async () => {
    let winners = 0;
    for (let race = 0; race < 50; race++) {
      const t = await login(a.url, 'nina', password);
      const results = await Promise.all([a, b, c].map((n) => postAuth(n.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token })));
      const ok = results.filter((r) => r.status === 200).length;
      assert.equal(ok, 1, `race ${race}: ${results.map((r) => r.status).join(',')}`);
      assert.ok(results.every((r) => r.status === 200 || (r.status === 401 && r.json.error === 'invalid_grant')));
      winners += ok;
    }
    assert.equal(winners, 50);
  });
});
