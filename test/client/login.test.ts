import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RecoveryConnectClient, RecoveryConnectError } from '../../src/client/index.js';
import { clientFor, FakeServer, PASSWORD, useFakeServer, USERNAME } from './fake-server.js';

describe('client login', () => {
  let fake: FakeServer;
  useFakeServer((f) => (fake = f));

  it('logs in lazily, on the first call, with the documented JSON body', async () => {
    const before = fake.loginAttempts;
    const requestsBefore = fake.authRequests.length;
    const client = clientFor(fake);
    assert.equal(fake.loginAttempts, before, 'constructing must not call the server');

    const response = await client.fetch('/api/v140/claims');
    assert.equal(response.status, 200);
    assert.equal(fake.loginAttempts, before + 1);

    const login = fake.authRequests[requestsBefore];
    assert.ok(login);
    assert.equal(login.method, 'POST');
    assert.equal(login.path, '/api/v140/auth');
    assert.match(String(login.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(login.body), { username: USERNAME, password: PASSWORD });
  });

  it('sends Authorization: Bearer <access_token> and reuses the token', async () => {
    const client = clientFor(fake);
    const before = fake.loginAttempts;
    const token = await client.accessToken();
    assert.equal(typeof token, 'string');
    assert.ok(fake.issued.includes(token));

    const apiBefore = fake.apiRequests.length;
    await (await client.fetch('/api/v140/a')).body?.cancel();
    await (await client.fetch('/api/v140/b')).body?.cancel();
    assert.equal(fake.loginAttempts, before + 1, 'one login for all calls');
    for (const request of fake.apiRequests.slice(apiBefore)) {
      assert.equal(request.headers.authorization, `Bearer ${token}`);
    }
  });

  it('makes exactly one login for 100 concurrent calls (single flight)', async () => {
    const client = clientFor(fake);
    // A slow login makes sure all 100 calls arrive while it is under way.
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 100 });
    const before = fake.loginAttempts;
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => client.fetch(`/api/v140/item/${i}`)));
    assert.equal(fake.loginAttempts, before + 1);
    assert.deepEqual(new Set(responses.map((r) => r.status)), new Set([200]));
    await Promise.all(responses.map((r) => r.body?.cancel()));
  });

  it('shares one failed login between concurrent callers and rejects all with invalid_grant', async () => {
    const client = new RecoveryConnectClient({ baseUrl: fake.url, username: USERNAME, password: 'wrong-password-123' });
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 50 });
    const before = fake.loginAttempts;
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.accessToken()));
    assert.equal(fake.loginAttempts, before + 1);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      const error = (result as PromiseRejectedResult).reason as RecoveryConnectError;
      assert.ok(error instanceof RecoveryConnectError);
      assert.equal(error.code, 'invalid_grant');
      assert.equal(error.status, 401);
      assert.equal(error.description, 'fake server says invalid_grant');
    }
    // A failed login is not cached: the next call tries again.
    await assert.rejects(client.accessToken(), { code: 'invalid_grant' });
    assert.equal(fake.loginAttempts, before + 2);
  });

  const badBodies: Array<[string, unknown]> = [
    ['not JSON', 'Service temporarily down'],
    ['an array', []],
    ['no refresh_token', { token_type: 'Bearer', expires_in: 3600, access_token: 'a.b.c' }],
    ['no access_token', { token_type: 'Bearer', expires_in: 3600, refresh_token: 'r' }],
    ['token_type mac', { token_type: 'mac', expires_in: 3600, access_token: 'a.b.c', refresh_token: 'r' }],
    ['expires_in as a string', { token_type: 'Bearer', expires_in: '3600', access_token: 'a.b.c', refresh_token: 'r' }],
    ['expires_in 0', { token_type: 'Bearer', expires_in: 0, access_token: 'a.b.c', refresh_token: 'r' }],
    ['a token with a newline', { token_type: 'Bearer', expires_in: 60, access_token: 'a\nb', refresh_token: 'r' }],
  ];
  for (const [name, body] of badBodies) {
    it(`rejects a 200 token response with ${name} as bad_response`, async () => {
      fake.onAuth = () => ({ status: 200, body });
      await assert.rejects(clientFor(fake).accessToken(), (error: unknown) => {
        assert.ok(error instanceof RecoveryConnectError);
        assert.equal(error.code, 'bad_response');
        assert.equal(error.status, 200);
        return true;
      });
    });
  }

  it('accepts token_type in any case (RFC 6749 §5.1)', async () => {
    fake.onAuth = (_request, next) => {
      const reply = next();
      return { ...reply, body: { ...(reply.body as object), token_type: 'bearer' } };
    };
    assert.equal(typeof (await clientFor(fake).accessToken()), 'string');
  });

  it('turns an error page without an error code into bad_response with the status', async () => {
    fake.onAuth = () => ({ status: 500, body: '<html>Internal Server Error</html>' });
    await assert.rejects(clientFor(fake).accessToken(), { name: 'RecoveryConnectError', code: 'bad_response', status: 500 });
  });

  it('passes a server error code through (400 invalid_request)', async () => {
    fake.onAuth = () => ({ status: 400, body: { error: 'invalid_request', error_description: 'username is missing' } });
    await assert.rejects(clientFor(fake).accessToken(), {
      code: 'invalid_request',
      status: 400,
      description: 'username is missing',
    });
  });

  it('uses the configured version in the auth path', async () => {
    const v150 = new FakeServer();
    v150.version = 'v150';
    await v150.start();
    try {
      await clientFor(v150, { version: 'v150' }).accessToken();
      assert.deepEqual(
        v150.authRequests.map((r) => r.path),
        ['/api/v150/auth'],
      );
    } finally {
      await v150.close();
    }
  });

  it('resolves paths under baseUrl, keeps a path prefix, and refuses to send the token to another origin', async () => {
    const client = clientFor(fake, { baseUrl: `${fake.url}/prefix/` });
    // The fake routes only /api/v140/auth, so the prefixed login lands on its API side.
    await assert.rejects(client.accessToken(), { code: 'invalid_token', status: 401 });
    assert.equal(fake.apiRequests.at(-1)?.path, '/prefix/api/v140/auth');

    const plain = clientFor(fake);
    const apiBefore = fake.apiRequests.length;
    await (await plain.fetch('api/v140/x?q=1')).body?.cancel();
    await (await plain.fetch(new URL('/api/v140/y', fake.url))).body?.cancel();
    await (await plain.fetch(`${fake.url}/api/v140/z`)).body?.cancel();
    assert.deepEqual(
      fake.apiRequests.slice(apiBefore).map((r) => r.path),
      ['/api/v140/x?q=1', '/api/v140/y', '/api/v140/z'],
    );

    await assert.rejects(plain.fetch('https://evil.example/api'), TypeError);
    await assert.rejects(plain.fetch('//evil.example/api'), TypeError);
    await assert.rejects(plain.fetch(`${fake.url.replace('127.0.0.1', 'localhost')}/api`), TypeError);
  });

  it("keeps the caller's headers and replaces a caller's Authorization", async () => {
    const client = clientFor(fake);
    const token = await client.accessToken();
    const init: RequestInit = { method: 'POST', body: 'x=1', headers: { 'x-trace': 'abc', authorization: 'Basic Zm9vOmJhcg==' } };
    const response = await client.fetch('/api/v140/echo', init);
    assert.equal(response.status, 200);
    const request = fake.apiRequests.at(-1);
    assert.equal(request?.headers['x-trace'], 'abc');
    assert.equal(request?.headers.authorization, `Bearer ${token}`);
    assert.deepEqual(init.headers, { 'x-trace': 'abc', authorization: 'Basic Zm9vOmJhcg==' }, "the caller's init is not changed");
    assert.equal((await response.json()).body, 'x=1');
  });

  it('logout() forgets the tokens: the next call logs in again', async () => {
    const client = clientFor(fake);
    const first = await client.accessToken();
    const before = fake.loginAttempts;
    client.logout();
    const second = await client.accessToken();
    assert.notEqual(second, first);
    assert.equal(fake.loginAttempts, before + 1);
  });

  it('logout() during a login keeps its result from being stored', async () => {
    const client = clientFor(fake);
    fake.onAuth = (_request, next) => ({ ...next(), delayMs: 50 });
    const pending = client.accessToken();
    client.logout();
    const early = await pending;
    const before = fake.loginAttempts;
    const late = await client.accessToken();
    assert.notEqual(late, early);
    assert.equal(fake.loginAttempts, before + 1);
  });

  it('close() makes every later call fail with client_closed', async () => {
    const client = clientFor(fake);
    await client.accessToken();
    client.close();
    await assert.rejects(client.accessToken(), { code: 'client_closed' });
    await assert.rejects(client.fetch('/api/v140/x'), { code: 'client_closed' });
  });

  it('does not follow a redirect from the auth endpoint (the password would go along)', async () => {
    let stolen = 0;
    const elsewhere = createServer((_req, res) => {
      stolen += 1;
      res.end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = elsewhere.address() as AddressInfo;
      fake.onAuth = () => ({ status: 307, headers: { location: `http://127.0.0.1:${port}/steal` } });
      await assert.rejects(clientFor(fake).accessToken(), { code: 'bad_response', status: 307 });
      assert.equal(stolen, 0);
    } finally {
      elsewhere.closeAllConnections();
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });
});
