import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryConnectError } from '../../src/client/index.js';
import { clientFor, useFakeServer, type FakeServer, type Reply } from './fake-server.js';

/** Answers the first `n` calls with `reply`, then falls through to the default. */
function firstN(n: number, reply: Reply): (request: unknown, next: () => Reply) => Reply {
  let left = n;
  return (_request, next) => {
    if (left <= 0) return next();
    left -= 1;
    return reply;
  };
}

function streamBody(text: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
}

describe('client retries after 401', () => {
  let fake: FakeServer;
  useFakeServer((f) => (fake = f));

  it('renews the token once and resends the request once', async () => {
    const client = clientFor(fake);
    const first = await client.accessToken();
    fake.forgetAccessTokens(); // e.g. the operator rotated keys
    const { apiCalls, refreshAttempts, loginAttempts } = fake;

    const response = await client.fetch('/api/v140/orders', { method: 'POST', body: '{"n":1}' });
    assert.equal(response.status, 200);
    const echoed = (await response.json()) as { body: string };
    assert.equal(echoed.body, '{"n":1}', 'the body is sent again unchanged');
    assert.equal(fake.apiCalls - apiCalls, 2);
    assert.equal(fake.refreshAttempts - refreshAttempts, 1);
    assert.equal(fake.loginAttempts - loginAttempts, 0);
    assert.notEqual(fake.apiRequests.at(-1)?.headers.authorization, `Bearer ${first}`);
  });

  it('logs in when the session behind the token ended (refresh refused)', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.forgetAccessTokens();
    fake.forgetRefreshTokens();
    const { refreshAttempts, loginAttempts } = fake;
    const response = await client.fetch('/api/v140/orders');
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(fake.refreshAttempts - refreshAttempts, 1);
    assert.equal(fake.loginAttempts - loginAttempts, 1);
  });

  it('returns the second 401 instead of looping', async () => {
    const client = clientFor(fake);
    fake.onApi = () => ({ status: 401, body: { error: 'invalid_token' } });
    const { apiCalls, refreshAttempts } = fake;
    const response = await client.fetch('/api/v140/forbidden');
    assert.equal(response.status, 401);
    await response.body?.cancel();
    assert.equal(fake.apiCalls - apiCalls, 2);
    assert.equal(fake.refreshAttempts - refreshAttempts, 1);
  });

  for (const [name, body] of [
    ['URLSearchParams', () => new URLSearchParams({ a: '1' })],
    ['Uint8Array', () => new TextEncoder().encode('bytes')],
    ['ArrayBuffer', () => new TextEncoder().encode('buffer').buffer],
  ] as const) {
    it(`resends a ${name} body`, async () => {
      const client = clientFor(fake);
      await client.accessToken();
      fake.forgetAccessTokens();
      const response = await client.fetch('/api/v140/echo', { method: 'PUT', body: body() });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      const [firstTry, secondTry] = fake.apiRequests.slice(-2);
      assert.equal(secondTry?.body, firstTry?.body);
      assert.ok((secondTry?.body.length ?? 0) > 0);
    });
  }

  it('does not resend a stream body, but renews the token for the next call', async () => {
    const client = clientFor(fake);
    const first = await client.accessToken();
    fake.forgetAccessTokens();
    const { apiCalls } = fake;
    const response = await client.fetch('/api/v140/upload', {
      method: 'POST',
      body: streamBody('chunk'),
      duplex: 'half',
    } as RequestInit);
    assert.equal(response.status, 401);
    await response.body?.cancel();
    assert.equal(fake.apiCalls - apiCalls, 1);
    assert.notEqual(await client.accessToken(), first, 'the rejected token is not handed out again');
  });

  it('shares one renewal between concurrent requests that all got 401', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.forgetAccessTokens();
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 30 });
    const { refreshAttempts, loginAttempts } = fake;
    const responses = await Promise.all(Array.from({ length: 30 }, () => client.fetch('/api/v140/x')));
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    await Promise.all(responses.map((r) => r.body?.cancel()));
    assert.equal(fake.refreshAttempts - refreshAttempts, 1);
    assert.equal(fake.loginAttempts - loginAttempts, 0);
  });
});

describe('client retries after 429 and 503', () => {
  let fake: FakeServer;
  useFakeServer((f) => (fake = f));

  it('retries an API call after 429 with Retry-After: 0', async () => {
    const client = clientFor(fake);
    fake.onApi = firstN(2, { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow_down' } });
    const { apiCalls } = fake;
    const response = await client.fetch('/api/v140/x', { method: 'POST', body: 'payload' });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { body: string }).body, 'payload');
    assert.equal(fake.apiCalls - apiCalls, 3);
  });

  it('waits at least Retry-After seconds after a 503', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = firstN(1, { status: 503, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const response = await client.fetch('/api/v140/x');
    const elapsed = performance.now() - started;
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.ok(elapsed >= 1000, `waited ${elapsed} ms`);
    assert.ok(elapsed < 2500, `waited ${elapsed} ms`);
  });

  it('understands Retry-After as an HTTP date', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = firstN(1, { status: 503, headers: { 'retry-after': new Date(Date.now() + 1000).toUTCString() } });
    const response = await client.fetch('/api/v140/x');
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  it('retries without Retry-After using backoff', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = firstN(2, { status: 503 });
    const response = await client.fetch('/api/v140/x');
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  it('gives up after maxRetries and returns the last 503', async () => {
    const client = clientFor(fake, { maxRetries: 2 });
    await client.accessToken();
    fake.onApi = () => ({ status: 503, headers: { 'retry-after': '0' }, body: { error: 'temporarily_unavailable' } });
    const { apiCalls } = fake;
    const response = await client.fetch('/api/v140/x');
    assert.equal(response.status, 503);
    assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable');
    assert.equal(fake.apiCalls - apiCalls, 3);
  });

  it('does not retry with maxRetries: 0', async () => {
    const client = clientFor(fake, { maxRetries: 0 });
    await client.accessToken();
    fake.onApi = () => ({ status: 429, headers: { 'retry-after': '0' } });
    const { apiCalls } = fake;
    const response = await client.fetch('/api/v140/x');
    assert.equal(response.status, 429);
    assert.equal(fake.apiCalls - apiCalls, 1);
  });

  it('hands back a 429 whose Retry-After is longer than maxBackoffMs at once', async () => {
    const client = clientFor(fake, { maxBackoffMs: 2000 });
    await client.accessToken();
    fake.onApi = () => ({ status: 429, headers: { 'retry-after': '900' } });
    const { apiCalls } = fake;
    const started = performance.now();
    const response = await client.fetch('/api/v140/x');
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '900');
    assert.equal(fake.apiCalls - apiCalls, 1);
    assert.ok(performance.now() - started < 500);
  });

  it('does not resend a stream body after 503', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    fake.onApi = firstN(1, { status: 503, headers: { 'retry-after': '0' } });
    const response = await client.fetch('/api/v140/x', { method: 'POST', body: streamBody('s'), duplex: 'half' } as RequestInit);
    assert.equal(response.status, 503);
  });

  it('retries a login answered 429 / 503 with Retry-After: 0', async () => {
    const client = clientFor(fake);
    let n = 0;
    fake.onAuth = (_request, next) => {
      n += 1;
      if (n === 1) return { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow_down' } };
      if (n === 2) return { status: 503, headers: { 'retry-after': '0' }, body: { error: 'temporarily_unavailable' } };
      return next();
    };
    const { loginAttempts } = fake;
    assert.equal(typeof (await client.accessToken()), 'string');
    assert.equal(fake.loginAttempts - loginAttempts, 3);
  });

  it('fails a login with slow_down and retryAfterMs once the retries are used up', async () => {
    const client = clientFor(fake, { maxRetries: 1 });
    fake.onAuth = () => ({ status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow_down', error_description: 'later' } });
    const { loginAttempts } = fake;
    await assert.rejects(client.accessToken(), (error: unknown) => {
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'slow_down');
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 0);
      assert.equal(error.description, 'later');
      return true;
    });
    assert.equal(fake.loginAttempts - loginAttempts, 2);
  });

  it('does not sleep through a long login throttle', async () => {
    const client = clientFor(fake);
    fake.onAuth = () => ({ status: 429, headers: { 'retry-after': '600' }, body: { error: 'slow_down' } });
    const { loginAttempts } = fake;
    await assert.rejects(client.accessToken(), { code: 'slow_down', retryAfterMs: 600_000 });
    assert.equal(fake.loginAttempts - loginAttempts, 1);
  });

  it('does not retry other statuses (500, 502)', async () => {
    const client = clientFor(fake);
    fake.onAuth = () => ({ status: 502, body: 'Bad Gateway' });
    const { loginAttempts } = fake;
    await assert.rejects(client.accessToken(), { code: 'bad_response', status: 502 });
    assert.equal(fake.loginAttempts - loginAttempts, 1);
  });
});
