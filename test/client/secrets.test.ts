import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RecoveryConnectClient, RecoveryConnectError } from '../../src/client/index.js';
import { clientFor, ManualClock, PASSWORD, startFakeServer, USERNAME, type FakeServer } from './fake-server.js';

/** Every way a value ends up in a log line. */
function renderings(value: unknown): string[] {
  const out = [
    String(value),
    JSON.stringify(value) ?? '',
    inspect(value),
    inspect(value, { showHidden: true, depth: Infinity, getters: true }),
    inspect(value, { customInspect: false, showHidden: true, depth: Infinity }),
    format('%o %O %s %j', value, value, value, value),
  ];
  if (value instanceof Error) {
    out.push(value.toString(), value.stack ?? '', inspect(value.cause, { showHidden: true, depth: Infinity }));
  }
  return out;
}

describe('client secrets', () => {
  let fake: FakeServer;
  before(async () => {
    fake = await startFakeServer();
  });
  after(() => fake.close());

  function assertNoSecrets(label: string, value: unknown, extra: string[] = []): void {
    const secrets = [PASSWORD, ...fake.issued, ...extra];
    for (const text of renderings(value)) {
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `${label} shows a secret (${secret.slice(0, 4)}…) in: ${text.slice(0, 300)}`);
      }
    }
  }

  async function caught(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    assert.fail('expected a rejection');
  }

  it('never shows the password or a token in the client or in any error', async () => {
    const errors: Array<[string, unknown]> = [];
    const leaked = 'AT.leaked-in-a-broken-response';

    const client = clientFor(fake);
    assertNoSecrets('client before login', client);
    await client.accessToken();
    await (await client.fetch('/api/v140/x')).body?.cancel();
    assertNoSecrets('client after login', client);
    assert.match(inspect(client), /RecoveryConnectClient \{ baseUrl: 'http:\/\/127\.0\.0\.1:\d+', username: 'alice', version: 'v140', state: 'logged in' \}/);
    assert.deepEqual(Object.keys(client), []);

    // A server that echoes the request (password, refresh token) into its error description.
    fake.onAuth = (request) => ({
      status: 401,
      body: { error: 'invalid_grant', error_description: `bad request: ${request.body}` },
    });
    errors.push(['login echoing the password', await caught(clientFor(fake).accessToken())]);

    const clock = new ManualClock();
    const refreshing = clientFor(fake, { now: clock.now, maxRetries: 0 });
    fake.onAuth = undefined;
    await refreshing.accessToken();
    fake.onAuth = (request) => ({ status: 500, body: { error: 'server_error', error_description: `could not use ${request.body}` } });
    clock.advance(4000);
    errors.push(['refresh echoing the refresh token', await caught(refreshing.accessToken())]);
    const echoed = errors.at(-1)?.[1] as RecoveryConnectError;
    assert.match(echoed.description ?? '', /\[redacted\]/);

    // Broken 200 answers that hold tokens and the password.
    fake.onAuth = () => ({ status: 200, body: `{"access_token":"${leaked}","password":"${PASSWORD}"` });
    errors.push(['non-JSON 200', await caught(clientFor(fake).accessToken())]);
    fake.onAuth = () => ({
      status: 200,
      body: { token_type: 'Bearer', expires_in: '3600', access_token: leaked, refresh_token: leaked },
    });
    errors.push(['wrong-shape 200', await caught(clientFor(fake).accessToken())]);
    fake.onAuth = () => ({ status: 502, body: `<html>upstream said ${PASSWORD} ${leaked}</html>` });
    errors.push(['error page', await caught(clientFor(fake).accessToken())]);

    fake.onAuth = () => ({ status: 429, headers: { 'retry-after': '600' }, body: { error: 'slow_down' } });
    errors.push(['throttled', await caught(clientFor(fake).accessToken())]);

    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 500 });
    errors.push(['timeout', await caught(clientFor(fake, { timeoutMs: 50 }).accessToken())]);
    fake.onAuth = undefined;

    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    await new Promise((resolve) => listener.close(resolve));
    const unreachable = new RecoveryConnectClient({ baseUrl: `http://127.0.0.1:${port}`, username: USERNAME, password: PASSWORD });
    errors.push(['network error', await caught(unreachable.accessToken())]);
    assertNoSecrets('client that failed to connect', unreachable);

    errors.push(['cross-origin TypeError', await caught(client.fetch('https://elsewhere.example/x'))]);
    client.close();
    errors.push(['closed', await caught(client.accessToken())]);
    assertNoSecrets('closed client', client);

    const codes = errors.map(([, error]) => (error instanceof RecoveryConnectError ? error.code : (error as Error).name));
    assert.deepEqual(codes, [
      'invalid_grant',
      'server_error',
      'bad_response',
      'bad_response',
      'bad_response',
      'slow_down',
      'timeout',
      'network_error',
      'TypeError',
      'client_closed',
    ]);
    for (const [label, error] of errors) assertNoSecrets(label, error, [leaked]);
  });

  it('serializes an error to its data with JSON.stringify', () => {
    const error = new RecoveryConnectError('invalid_grant', 'Authentication failed.', { status: 401, description: 'nope' });
    assert.deepEqual(JSON.parse(JSON.stringify(error)), {
      name: 'RecoveryConnectError',
      code: 'invalid_grant',
      message: 'Authentication failed.',
      status: 401,
      description: 'nope',
    });
  });
});
