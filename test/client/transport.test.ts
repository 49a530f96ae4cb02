import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RecoveryConnectClient, RecoveryConnectError } from '../../src/client/index.js';
import { clientFor, PASSWORD, useFakeServer, USERNAME, type FakeServer } from './fake-server.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('client timeouts, network errors and aborts', () => {
  let fake: FakeServer;
  useFakeServer((f) => (fake = f));

  it('times out a slow API call with code timeout', async () => {
    const client = clientFor(fake, { timeoutMs: 100 });
    await client.accessToken();
    fake.onApi = (_request, next) => ({ ...next(), delayMs: 1000 });
    const started = performance.now();
    await assert.rejects(client.fetch('/api/v140/slow'), (error: unknown) => {
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'timeout');
      assert.equal(error.status, undefined);
      assert.match(error.message, /within 100 ms/);
      return true;
    });
    assert.ok(performance.now() - started < 900);
  });

  it('times out a slow login with code timeout', async () => {
    const client = clientFor(fake, { timeoutMs: 100 });
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 1000 });
    await assert.rejects(client.accessToken(), { code: 'timeout' });
  });

  it('reports an unreachable server as network_error with the cause attached', async () => {
    const port = await closedPort();
    const client = new RecoveryConnectClient({ baseUrl: `http://127.0.0.1:${port}`, username: USERNAME, password: PASSWORD });
    await assert.rejects(client.accessToken(), (error: unknown) => {
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'network_error');
      assert.ok(error.cause !== undefined);
      return true;
    });
  });

  it("rejects with the caller's abort reason when init.signal aborts", async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = (_request, next) => ({ ...next(), delayMs: 1000 });
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(client.fetch('/api/v140/slow', { signal: controller.signal }), (error: unknown) => error === reason);
  });

  it('rejects at once for an already aborted signal, without logging in', async () => {
    const client = clientFor(fake);
    const { loginAttempts } = fake;
    await assert.rejects(client.fetch('/api/v140/x', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(fake.loginAttempts, loginAttempts);
  });

  it("one caller's abort does not cancel the login others wait for", async () => {
    const client = clientFor(fake);
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 150 });
    const { loginAttempts } = fake;
    const controller = new AbortController();
    const impatient = client.fetch('/api/v140/a', { signal: controller.signal });
    const patient = client.fetch('/api/v140/b');
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(impatient, { name: 'AbortError' });
    const response = await patient;
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(fake.loginAttempts - loginAttempts, 1);
  });

  it('a caller abort also ends a Retry-After wait', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = () => ({ status: 503, headers: { 'retry-after': '5' } });
    const started = performance.now();
    await assert.rejects(client.fetch('/api/v140/x', { signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
    assert.ok(performance.now() - started < 2000);
  });

  it('uses an injected fetch', async () => {
    const seen: string[] = [];
    const injected: typeof fetch = async (input, init) => {
      seen.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return fetch(input, init);
    };
    const client = clientFor(fake, { fetch: injected });
    await (await client.fetch('/api/v140/x')).body?.cancel();
    assert.deepEqual(seen, [`POST ${fake.url}/api/v140/auth`, `GET ${fake.url}/api/v140/x`]);
  });
});
