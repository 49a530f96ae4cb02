import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addUser, startServer, type ServerHandle } from '../helpers/server.js';
import { exitOf, freePort, metricValue, postJson, refused, send, startSlowLogin, type Reply } from './support.js';

const AUTH = '/api/v140/auth';

describe('--workers 2', () => {
  let server: ServerHandle;
  let password: string;
  let metricsPort: number;

  /** The worker that answered, from its request log line (every line carries the worker id). */
  function workerOf(reply: Reply): number {
    const id = String(reply.headers['x-request-id']);
    const line = server.logs().split('\n').find((l) => l.includes(`"reqId":"${id}"`) && l.includes('"msg":"request"'));
    assert.ok(line, `no log line for request ${id}`);
    return (JSON.parse(line) as { worker: number }).worker;
  }

  /** Waits for the request line (written after the response) and returns the worker. */
  async function servedBy(reply: Reply): Promise<number> {
    for (let i = 0; i < 50; i++) {
      try {
        return workerOf(reply);
      } catch {
        await sleep(20);
      }
    }
    return workerOf(reply);
  }

  /** Repeats `call` on fresh connections until a worker other than `not` answers. */
  async function onOtherWorker(not: number, call: () => Promise<Reply>): Promise<Reply> {
    for (let i = 0; i < 20; i++) {
      const r = await call();
      if ((await servedBy(r)) !== not) return r;
    }
    throw new Error('every request went to the same worker');
  }

  before(async () => {
    metricsPort = await freePort();
    server = await startServer({ args: ['--workers', '2'] });
    password = await addUser(server, 'cluster.user');
  });
  after(() => server.stop());

  it('prints one listening line for the cluster, after both workers listen', () => {
    const lines = server.logs().split('\n').filter((l) => l.includes('"msg":"listening"'));
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { workers: number }).workers, 2);
    assert.equal(server.logs().split('\n').filter((l) => l.includes('"msg":"created account')).length, 1, 'admin made once');
  });

  it('spreads connections over both workers on one port', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 8 && seen.size < 2; i++) seen.add(await servedBy(await send(`${server.url}/healthz`)));
    assert.deepEqual([...seen].sort(), [1, 2]);
  });

  it('refreshes on one worker a token issued by the other, and detects reuse across them', async () => {
    const first = await postJson(`${server.url}${AUTH}`, { username: 'cluster.user', password });
    assert.equal(first.status, 200);
    const a = await servedBy(first);
    const refreshOf = (token: unknown) => () => postJson(`${server.url}${AUTH}`, { grant_type: 'refresh_token', refresh_token: String(token) });
    const second = await onOtherWorker(a, refreshOf(first.json.refresh_token));
    assert.equal(second.status, 200);
    const b = await servedBy(second);
    assert.notEqual(a, b);
    // And back again: the rotated token works on the first worker.
    const third = await onOtherWorker(b, refreshOf(second.json.refresh_token));
    assert.equal(third.status, 200);
    // The used token, presented to the worker that did not rotate it: reuse ends the family everywhere.
    const reuse = await onOtherWorker(await servedBy(third), refreshOf(second.json.refresh_token));
    assert.equal(reuse.status, 401);
    assert.equal(reuse.json.error, 'invalid_grant');
    assert.equal((await refreshOf(third.json.refresh_token)()).status, 401);
  });

  it('sums the metrics of both workers on /metrics', async () => {
    const before = metricValue((await send(`${server.url}/metrics`)).text, 'rcauth_logins_total', { outcome: 'ok' }) ?? 0;
    const workers = new Set<number>();
    for (let i = 0; i < 4; i++) workers.add(await servedBy(await postJson(`${server.url}${AUTH}`, { username: 'cluster.user', password })));
    assert.equal(workers.size, 2, 'logins on both workers');
    // Whichever worker answers the scrape, it reports the cluster's total.
    for (let i = 0; i < 2; i++) {
      const text = (await send(`${server.url}/metrics`)).text;
      assert.equal(metricValue(text, 'rcauth_logins_total', { outcome: 'ok' }), before + 4);
    }
  });

  it('serves the summed metrics from the primary on --metrics-port, and stops on SIGTERM with exit 0', async () => {
    const other = await startServer({ args: ['--workers', '2', '--metrics-port', String(metricsPort)] });
    try {
      const pw = await addUser(other, 'cluster.metrics');
      for (let i = 0; i < 3; i++) assert.equal((await postJson(`${other.url}${AUTH}`, { username: 'cluster.metrics', password: pw })).status, 200);
      const scrape = await send(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(scrape.status, 200);
      assert.equal(metricValue(scrape.text, 'rcauth_logins_total', { outcome: 'ok' }), 3);
      assert.equal((await send(`${other.url}/metrics`)).status, 404);
      other.process.kill('SIGTERM');
      assert.equal(await exitOf(other.process), 0);
    } finally {
      await other.stop();
    }
  });

  it('drains both workers on SIGTERM to the primary and exits 0', async () => {
    const other = await startServer({ args: ['--workers', '2'] });
    const pw = await addUser(other, 'cluster.drain');
    const body = JSON.stringify({ username: 'cluster.drain', password: pw });
    // Two connections: round-robin puts one on each worker; each has half a login body sent.
    const slow = [await startSlowLogin(other.port, body), await startSlowLogin(other.port, body)];
    await sleep(200);
    other.process.kill('SIGTERM');
    await sleep(500);
    assert.equal(other.process.exitCode, null, 'the cluster waits for the requests in flight');
    assert.ok(await refused(other.port), 'no new connections while draining');
    for (const s of slow) s.socket.write(s.rest);
    for (const s of slow) assert.match(await s.response, /^HTTP\/1\.1 200 /);
    assert.equal(await exitOf(other.process), 0);
    assert.match(other.logs(), /"msg":"stopped"/);
    await other.stop();
  });
});
