import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { createCore } from '../../src/core/index.js';
import { buildApp } from '../../src/http/app.js';
import { Metrics } from '../../src/http/metrics.js';
import { coreOptions } from '../../src/runtime.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { addUser, login, postAuth, startServer, type ServerHandle } from '../helpers/server.js';
import { freePort, metricValue, send } from './support.js';

const AUTH = '/api/v140/auth';

describe('GET /metrics after traffic', () => {
  let server: ServerHandle;
  let text: string;

  before(async () => {
    server = await startServer();
    const password = await addUser(server, 'metrics.user');
    // 2 logins ok, 3 wrong passwords, then 10 failures and 1 throttled try for another name.
    const first = await login(server.url, 'metrics.user', password);
    await login(server.url, 'metrics.user', password);
    for (let i = 0; i < 3; i++) assert.equal((await postAuth(server.url, { username: 'metrics.user', password: 'wrong-password-123' })).status, 401);
    for (let i = 0; i < 10; i++) assert.equal((await postAuth(server.url, { username: 'victim', password: `guess-${i}-abcdefgh` })).status, 401);
    assert.equal((await postAuth(server.url, { username: 'victim', password: 'guess-x-abcdefgh' })).status, 429);
    // 2 rotations, then the first (used) token again: reuse, then one unknown token.
    const second = (await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token })).json;
    assert.equal((await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: String(second.refresh_token) })).status, 200);
    assert.equal((await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token })).status, 401);
    assert.equal((await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: 'A'.repeat(43) })).status, 401);
    const res = await send(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    text = res.text;
  });
  after(() => server.stop());

  it('counts logins by outcome', () => {
    assert.equal(metricValue(text, 'rcauth_logins_total', { outcome: 'ok' }), 2);
    assert.equal(metricValue(text, 'rcauth_logins_total', { outcome: 'failed' }), 13);
    assert.equal(metricValue(text, 'rcauth_logins_total', { outcome: 'throttled' }), 1);
  });

  it('counts refreshes by outcome and reuse detections', () => {
    assert.equal(metricValue(text, 'rcauth_refreshes_total', { outcome: 'ok' }), 2);
    assert.equal(metricValue(text, 'rcauth_refreshes_total', { outcome: 'reuse' }), 1);
    assert.equal(metricValue(text, 'rcauth_refreshes_total', { outcome: 'failed' }), 1);
    assert.equal(metricValue(text, 'rcauth_refreshes_total', { outcome: 'grace' }), 0);
    assert.equal(metricValue(text, 'rcauth_refresh_reuse_detected_total'), 1);
  });

  it('counts brute-force throttling', () => {
    assert.equal(metricValue(text, 'rcauth_throttled_total', { reason: 'login' }), 1);
  });

  it('has a latency histogram per route, method and status', () => {
    const labels = { route: AUTH, method: 'POST', status: '200' };
    // 2 logins + 2 refreshes answered 200.
    assert.equal(metricValue(text, 'rcauth_http_request_duration_seconds_count', labels), 4);
    assert.equal(metricValue(text, 'rcauth_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }), 4);
    assert.equal(metricValue(text, 'rcauth_http_request_duration_seconds_count', { ...labels, status: '429' }), 1);
    assert.ok(metricValue(text, 'rcauth_http_request_duration_seconds_sum', labels)! > 0);
  });

  it('starts with a zero store error count and has the process metrics', () => {
    assert.equal(metricValue(text, 'rcauth_store_errors_total'), 0);
    assert.ok(metricValue(text, 'rcauth_process_resident_memory_bytes')! > 0);
  });
});

/** The app in process on an in-memory SQLite store, with its own metrics registry. */
async function inProcessApp(config: ReturnType<typeof defaultConfig>) {
  const store = new SqliteStore(':memory:');
  await store.migrate();
  const metrics = new Metrics(false);
  const core = await createCore(store, coreOptions(config), { onEvent: metrics.onSessionEvent });
  return { store, metrics, app: await buildApp({ core, config, metrics }) };
}

describe('metrics in process (store outage, request limit)', () => {
  it('counts requests that failed because the store is gone', async () => {
    const config = defaultConfig({ rateLimit: 0 });
    const { store, metrics, app } = await inProcessApp(config);
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await store.close();
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      const r = await app.inject({ method: 'POST', url: AUTH, payload: { grant_type: 'refresh_token', refresh_token: 'B'.repeat(43) } });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().error, 'temporarily_unavailable');
      assert.equal(metricValue(await metrics.render(), 'rcauth_store_errors_total'), 2);
    } finally {
      await app.close();
    }
  });

  it('counts the per-IP request limit as reason="rate"', async () => {
    const config = defaultConfig({ rateLimit: 1 });
    const { store, metrics, app } = await inProcessApp(config);
    try {
      const body = { grant_type: 'refresh_token', refresh_token: 'C'.repeat(43) };
      assert.equal((await app.inject({ method: 'POST', url: AUTH, payload: body })).statusCode, 401);
      assert.equal((await app.inject({ method: 'POST', url: AUTH, payload: body })).statusCode, 429);
      assert.equal(metricValue(await metrics.render(), 'rcauth_throttled_total', { reason: 'rate' }), 1);
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('--metrics-port', () => {
  let server: ServerHandle;
  let metricsPort: number;

  before(async () => {
    metricsPort = await freePort();
    server = await startServer({ args: ['--metrics-port', String(metricsPort)] });
  });
  after(() => server.stop());

  it('serves /metrics on its own port and not on the main one', async () => {
    const password = await addUser(server, 'port.user');
    await login(server.url, 'port.user', password);
    const own = await send(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(own.status, 200);
    assert.equal(metricValue(own.text, 'rcauth_logins_total', { outcome: 'ok' }), 1);
    assert.equal((await send(`${server.url}/metrics`)).status, 404);
  });

  it('serves nothing else there', async () => {
    assert.equal((await send(`http://127.0.0.1:${metricsPort}/healthz`)).status, 404);
    assert.equal((await send(`http://127.0.0.1:${metricsPort}${AUTH}`, { method: 'POST', body: '{}' })).status, 404);
    assert.equal((await send(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST', body: '' })).status, 405);
  });
});
