import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addUser, startServer, type ServerHandle } from '../helpers/server.js';
import { exitOf, postJson, refused, selfSignedCert, send, startSlowLogin } from './support.js';

describe('health and readiness', () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('GET /healthz answers 200 while the process is up', async () => {
    const r = await send(`${server.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
  });

  it('GET /readyz answers 200 when the store answers and a key is loaded', async () => {
    const r = await send(`${server.url}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ready' });
  });
});

describe('SIGTERM', () => {
  it('drains a request in flight, refuses new connections, and exits 0', async () => {
    const server = await startServer();
    const password = await addUser(server, 'drain.user');
    const slow = await startSlowLogin(server.port, JSON.stringify({ username: 'drain.user', password }));
    await sleep(200);
    server.process.kill('SIGTERM');
    await sleep(500);
    assert.equal(server.process.exitCode, null, 'the server waits for the request in flight');
    assert.ok(await refused(server.port), 'no new connections while draining');
    slow.socket.write(slow.rest);
    const raw = await slow.response;
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(await exitOf(server.process), 0);
    assert.match(server.logs(), /"msg":"draining"/);
    assert.match(server.logs(), /"msg":"stopped"/);
    await server.stop();
  });

  it('exits 0 at once when idle, closing kept-alive connections', async () => {
    const server = await startServer();
    // A kept-alive idle connection must not hold the shutdown up.
    const idle = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    idle.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await sleep(100);
    const t0 = Date.now();
    server.process.kill('SIGTERM');
    assert.equal(await exitOf(server.process), 0);
    assert.ok(Date.now() - t0 < 5000);
    idle.destroy();
    await server.stop();
  });
});

describe('TLS (--tls-cert/--tls-key)', () => {
  let server: ServerHandle;
  let tls: ReturnType<typeof selfSignedCert>;

  before(async () => {
    tls = selfSignedCert();
    server = await startServer({ args: ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] });
  });
  after(async () => {
    await server.stop();
    rmSync(dirname(tls.certFile), { recursive: true, force: true });
  });

  it('listens on https and says so in the listening line', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the token endpoints over TLS with HSTS', async () => {
    const password = await addUser(server, 'tls.user');
    const r = await postJson(`${server.url}/api/v140/auth`, { username: 'tls.user', password }, { ca: tls.cert });
    assert.equal(r.status, 200);
    assert.equal(r.json.token_type, 'Bearer');
    assert.match(String(r.headers['strict-transport-security']), /max-age=\d+/);
    const ready = await send(`${server.url}/readyz`, { ca: tls.cert });
    assert.equal(ready.status, 200);
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const plain = send(`http://127.0.0.1:${server.port}/healthz`).then((r) => r.status, () => 0);
    assert.notEqual(await plain, 200);
  });

  it('refuses a client that does not trust the certificate', async () => {
    await assert.rejects(send(`${server.url}/healthz`), /self-signed|certificate/i);
  });
});
