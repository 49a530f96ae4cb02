import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';
import { killUnderLoad } from '../helpers/kill.js';

describe('PostgreSQL faults', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(() => pg?.stop());

  it('answers 503 within 5 s while the database is down, and resumes by itself', async () => {
    const server: ServerHandle = await startServer({ databaseUrl: await pg.createDatabase('outage') });
    try {
      const pw = await addUser(server, 'olga');
      let token = (await login(server.url, 'olga', pw)).refresh_token;
      await pg.pause();
      const statuses: number[] = [];
      const started = Date.now();
      // A bounded burst while the database is gone: every answer must be a quick 503.
      for (let i = 0; i < 6; i++) {
        const t0 = Date.now();
        const res = await fetch(`${server.url}/api/v140/auth`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: token }),
          signal: AbortSignal.timeout(8000),
        });
        const body = (await res.json()) as Record<string, unknown>;
        statuses.push(res.status);
        assert.equal(res.status, 503, JSON.stringify(body));
        assert.equal(body.error, 'temporarily_unavailable');
        assert.equal(typeof body.request_id, 'string');
        assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
      }
      const login503 = await postAuth(server.url, { username: 'olga', password: pw });
      assert.equal(login503.status, 503);
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.ok(Date.now() - started < 30_000);

      await pg.resume();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline) {
        const r = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: token });
        status = r.status;
        if (status === 200) {
          token = String(r.json.refresh_token);
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(status, 200, 'service resumed without a restart');
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      assert.ok(!/"statusCode":500|server_error/.test(server.logs()), 'no 500 during the outage');
    } finally {
      await server.stop();
    }
  });

  it('loses no acknowledged write to kill -9 under load', async () => {
    await killUnderLoad({ databaseUrl: await pg.createDatabase('killed') });
  });
});
