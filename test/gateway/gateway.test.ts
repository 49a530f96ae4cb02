// Gateway mode through the real server (`rcauth serve --upstream`) in a child
// process, in front of a real node:http upstream on 127.0.0.1 that echoes what
// it receives, streams 10 MiB, or answers too late.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOKEN_CACHE_TTL_MS } from '../../src/gateway/token-cache.js';
import { addUser, login, startServer, type ServerHandle } from '../helpers/server.js';

const MiB = 1024 * 1024;
const BIG = randomBytes(10 * MiB);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');
const SLOW_MS = 2500; // longer than --upstream-timeout 1

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  length: number;
  sha256: string;
}

/** A deferred: the tests and the upstream hand each other "go" signals. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire = () => {};
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

/** Fails instead of hanging when a signal never comes (i.e. something buffered). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what}: nothing within ${ms} ms`)))]);
}

class Upstream {
  readonly seen: string[] = [];
  uploadStarted = signal();
  downloadRead = signal();
  private server: Server = createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.seen.push(`${req.method} ${req.url}`);
    const path = (req.url ?? '/').split('?')[0];
    if (path.endsWith('/slow')) {
      await sleep(SLOW_MS);
      if (!res.destroyed) res.end('late');
      return;
    }
    if (path === '/small') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5', etag: '"v1"' });
      res.end('small');
      return;
    }
    if (path === '/stall' || path === '/drop') {
      // A small answer (read whole by the gateway) that stops after its first bytes.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('0123456789');
      if (path === '/drop') setTimeout(() => res.destroy(), 50);
      else await sleep(SLOW_MS);
      return;
    }
    if (path === '/download') {
      // First MiB, then wait until the client has read bytes: a gateway that
      // buffered the whole answer would never let the client see any.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(BIG.subarray(0, MiB));
      try {
        await within(this.downloadRead.promise, 5000, 'client read of the first MiB');
      } catch {
        res.destroy();
        return;
      }
      for (let at = MiB; at < BIG.length; at += 256 * 1024) {
        if (!res.write(BIG.subarray(at, at + 256 * 1024))) await new Promise((d) => res.once('drain', d));
      }
      res.end();
      return;
    }
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      if (length === 0) this.uploadStarted.fire();
      hash.update(chunk);
      length += chunk.length;
    }
    const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, length, sha256: hash.digest('hex') };
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes', connection: 'keep-alive, x-internal', 'keep-alive': 'timeout=99', 'x-internal': 'secret' });
    res.end(JSON.stringify(echo));
  }
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((d) => s.listen(0, '127.0.0.1', d));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((d) => s.close(() => d()));
  return port;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe('gateway mode', () => {
  const upstream = new Upstream();
  let server: ServerHandle;
  let token = '';
  const bearer = () => ({ authorization: `Bearer ${token}` });

  before(async () => {
    await upstream.start();
    server = await startServer({ args: ['--upstream', upstream.url, '--upstream-timeout', '1'] });
    const password = await addUser(server, 'alice', undefined, 'openid,reports:read');
    token = (await login(server.url, 'alice', password)).access_token;
  });
  after(async () => {
    await server?.stop();
    await upstream.stop();
  });

  it('asks for a token with the bare RFC 6750 challenge and proxies nothing', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${server.url}/api/v140/patients`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="rcauth"');
    assert.equal((await json(res)).error, 'invalid_token');
    assert.equal(upstream.seen.length, before);
  });

  it('refuses a bad or non-bearer token with invalid_token', async () => {
    for (const authorization of ['Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer not-a-jwt', `Basic ${Buffer.from('alice:x').toString('base64')}`]) {
      const res = await fetch(`${server.url}/api/v140/patients`, { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="rcauth", error="invalid_token"/);
      assert.equal((await json(res)).error, 'invalid_token');
    }
  });

  it('refuses an unauthenticated 10 MiB upload with 401, not 413, without forwarding it', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${server.url}/files`, { method: 'PUT', body: BIG, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(res.status, 401);
    assert.equal((await json(res)).error, 'invalid_token');
    assert.equal(upstream.seen.length, before);
  });

  it('proxies method, path and query with the X-Auth-* identity; spoofed copies and Authorization are not forwarded', async () => {
    const res = await fetch(`${server.url}/api/v140/patients/7?x=1&y=%20z&y=2`, {
      method: 'PATCH',
      headers: { ...bearer(), 'X-Auth-Subject': 'evil', 'x-auth-scopes': 'rcauth:admin', 'X_Auth_User_Id': 'u-0', 'x-custom': 'kept', 'content-type': 'application/json' },
      body: '{"broken json', // proxied as bytes, never parsed by the gateway
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-upstream'), 'yes');
    // Hop-by-hop response headers end at the gateway (Node adds its own Keep-Alive for our connection).
    assert.notEqual(res.headers.get('keep-alive'), 'timeout=99');
    assert.equal(res.headers.get('x-internal'), null);
    const echo = (await res.json()) as Echo;
    assert.equal(echo.method, 'PATCH');
    assert.equal(echo.url, '/api/v140/patients/7?x=1&y=%20z&y=2');
    assert.equal(echo.headers['x-auth-subject'], 'alice');
    assert.match(String(echo.headers['x-auth-user-id']), /.+/);
    assert.notEqual(echo.headers['x-auth-user-id'], 'u-0');
    assert.match(String(echo.headers['x-auth-client-id']), /.+/);
    assert.equal(echo.headers['x-auth-scopes'], 'openid reports:read');
    assert.equal(echo.headers['x_auth_user_id'], undefined);
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers['x-custom'], 'kept');
    assert.equal(echo.headers['x-request-id'], res.headers.get('x-request-id'));
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(echo.length, Buffer.byteLength('{"broken json'));
  });

  it('proxies GET, DELETE and HEAD as they are', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${server.url}/things/1?a=b`, { method, headers: bearer() });
      assert.equal(res.status, 200, method);
      const echo = (await res.json()) as Echo;
      assert.equal(echo.method, method);
      assert.equal(echo.url, '/things/1?a=b');
    }
    const head = await fetch(`${server.url}/things/1`, { method: 'HEAD', headers: bearer() });
    assert.equal(head.status, 200);
    assert.equal(upstream.seen.at(-1), 'HEAD /things/1');
    const sized = await fetch(`${server.url}/small`, { method: 'HEAD', headers: bearer() });
    assert.equal(sized.status, 200);
    assert.equal(sized.headers.get('content-length'), '5');
  });

  it('streams a 10 MiB request body to the upstream, byte for byte', async () => {
    const res = await fetch(`${server.url}/files/big`, { method: 'PUT', headers: { ...bearer(), 'content-type': 'application/octet-stream' }, body: BIG });
    assert.equal(res.status, 200);
    const echo = (await res.json()) as Echo;
    assert.equal(echo.length, BIG.length);
    assert.equal(echo.sha256, BIG_SHA);
  });

  it('streams a chunked upload: the upstream sees bytes before the client has sent them all', async () => {
    upstream.uploadStarted = signal();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === MiB) await within(upstream.uploadStarted.promise, 5000, 'upstream receiving the first MiB');
        if (sent >= BIG.length) return controller.close();
        controller.enqueue(BIG.subarray(sent, sent + MiB));
        sent += MiB;
      },
    });
    const res = await fetch(`${server.url}/files/streamed`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/octet-stream' }, body, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 200);
    const echo = (await res.json()) as Echo;
    assert.equal(echo.length, BIG.length);
    assert.equal(echo.sha256, BIG_SHA);
  });

  it('streams a 10 MiB response back: the client reads before the upstream has sent it all', async () => {
    upstream.downloadRead = signal();
    const res = await fetch(`${server.url}/download`, { headers: bearer() });
    assert.equal(res.status, 200);
    const hash = createHash('sha256');
    let length = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      length += chunk.length;
      if (length >= MiB / 2) upstream.downloadRead.fire();
    }
    assert.equal(length, BIG.length);
    assert.equal(hash.digest('hex'), BIG_SHA);
  });

  it('answers 504 gateway_timeout when the upstream is slower than --upstream-timeout', async () => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/slow`, { headers: bearer() });
    const ms = performance.now() - t0;
    assert.equal(res.status, 504);
    const body = await json(res);
    assert.equal(body.error, 'gateway_timeout');
    assert.equal(typeof body.error_description, 'string');
    assert.ok(ms >= 900 && ms < SLOW_MS, `answered after ${Math.round(ms)} ms`);
  });

  it('answers 504 when a small answer stalls mid-body and 502 when the upstream drops it', async () => {
    const stalled = await fetch(`${server.url}/stall`, { headers: bearer() });
    assert.equal(stalled.status, 504);
    assert.equal((await json(stalled)).error, 'gateway_timeout');
    const dropped = await fetch(`${server.url}/drop`, { headers: bearer() });
    assert.equal(dropped.status, 502);
    const body = await json(dropped);
    assert.equal(body.error, 'bad_gateway');
    assert.equal(body.request_id, dropped.headers.get('x-request-id'));
  });

  it('writes no info request line for answers passed on from the upstream, but does for its own refusals', async () => {
    const proxied = await fetch(`${server.url}/small`, { headers: bearer() });
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers.get('content-length'), '5');
    assert.equal(proxied.headers.get('etag'), '"v1"');
    assert.equal(await proxied.text(), 'small');
    const refused = await fetch(`${server.url}/things/2`);
    assert.equal(refused.status, 401);
    await refused.arrayBuffer();
    const lineOf = (res: Response) => server.logs().split('\n').find((l) => l.includes(`"reqId":"${res.headers.get('x-request-id')}"`) && l.includes('"msg":"request"'));
    for (let i = 0; i < 40 && !lineOf(refused); i++) await sleep(50);
    assert.match(lineOf(refused) ?? '', /"level":30,.*"route":"\/\*".*"statusCode":401/);
    assert.equal(lineOf(proxied), undefined);
  });

  it('keeps the server\'s own routes working and never proxies them', async () => {
    const before = upstream.seen.length;
    for (const path of ['/healthz', '/readyz', '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/oauth2/v1/keys', '/openapi.json', '/metrics']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    }
    const wrongMethod = await fetch(`${server.url}/api/v140/auth`, { headers: bearer() });
    assert.equal(wrongMethod.status, 405);
    assert.equal((await json(wrongMethod)).error, 'invalid_request');
    // Another method on an own path, or an unknown path in an own namespace: the server's 404, even with a token.
    for (const [method, path] of [['DELETE', '/healthz'], ['GET', '/oauth2/v1/token'], ['GET', '/oauth2/v9/nothing'], ['POST', '/admin/v1/nothing']] as const) {
      const res = await fetch(`${server.url}${path}`, { method, headers: bearer() });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal((await json(res)).error, 'not_found');
    }
    assert.equal(upstream.seen.length, before, 'none of these reached the upstream');
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.equal(openapi.paths['/*'], undefined, 'the catch-all is not part of the documented API');
  });

  it('refuses a path with dot-segments as invalid_request instead of forwarding it', async () => {
    // node:http with `path` sends the target as written (fetch and URL would normalise it).
    const raw = (path: string) => new Promise<{ status: number; body: string }>((done, fail) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers: bearer() }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
    const before = upstream.seen.length;
    for (const path of ['/a/../healthz', '/a/%2e%2e/secret', '/a%2F..%2Fb']) {
      const res = await raw(path);
      assert.equal(res.status, 400, path);
      assert.equal((JSON.parse(res.body) as { error: string }).error, 'invalid_request', path);
    }
    assert.equal(upstream.seen.length, before);
  });

  it(`refuses a revoked token within ${TOKEN_CACHE_TTL_MS / 1000} s, then lets a fresh login through`, async (t) => {
    const password = await addUser(server, 'bob');
    const old = (await login(server.url, 'bob', password)).access_token;
    const ok = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${old}` } });
    assert.equal(ok.status, 200); // now cached at the gateway
    await ok.arrayBuffer();
    const revoked = await server.cli(['user', 'revoke', 'bob']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const t0 = performance.now();
    let res: Response;
    for (;;) {
      res = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${old}` } });
      if (res.status !== 200 || performance.now() - t0 > TOKEN_CACHE_TTL_MS + 2000) break;
      await res.arrayBuffer();
      await sleep(200);
    }
    const waited = performance.now() - t0;
    assert.equal(res.status, 401, `still accepted ${Math.round(waited)} ms after the revocation`);
    assert.equal((await json(res)).error, 'invalid_token');
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.ok(waited <= TOKEN_CACHE_TTL_MS + 1000, `refused after ${Math.round(waited)} ms`);
    t.diagnostic(`revoked token refused ${Math.round(waited)} ms after \`user revoke\` returned`);

    const fresh = (await login(server.url, 'bob', password)).access_token;
    const again = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${fresh}` } });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as Echo).headers['x-auth-subject'], 'bob');
  });
});

describe('gateway mode with the upstream down', () => {
  let server: ServerHandle;
  let token = '';

  before(async () => {
    const port = await closedPort();
    // The per-IP limit on, and low: gateway traffic must not count against it.
    // CORS on: its OPTIONS catch-all and the gateway's must live side by side.
    server = await startServer({ rateLimit: true, args: ['--upstream', `http://127.0.0.1:${port}`, '--rate-limit', '3', '--cors-origins', 'http://app.example'] });
    const password = await addUser(server, 'carol');
    token = (await login(server.url, 'carol', password)).access_token;
  });
  after(async () => {
    await server?.stop();
  });

  it('answers 502 bad_gateway when the upstream refuses connections, and never rate-limits gateway traffic', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${server.url}/api/v140/patients?i=${i}`, { method: i % 2 ? 'POST' : 'GET', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(i % 2 ? { body: '{}' } : {}) });
      assert.equal(res.status, 502, `request ${i}`);
      const body = await json(res);
      assert.equal(body.error, 'bad_gateway');
      assert.equal(typeof body.error_description, 'string');
    }
  });

  it('still serves its own routes', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.equal((await json(res)).status, 'ok');
  });

  it('answers CORS preflights itself (no token needed) when --cors-origins is set', async () => {
    const res = await fetch(`${server.url}/api/v140/patients`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'GET' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://app.example');
    const anonymous = await fetch(`${server.url}/api/v140/patients`, { headers: { origin: 'http://app.example' } });
    assert.equal(anonymous.status, 401);
    assert.equal((await json(anonymous)).error, 'invalid_token');
  });
});

describe('gateway mode with an upstream base path', () => {
  const upstream = new Upstream();
  let server: ServerHandle;

  before(async () => {
    await upstream.start();
    // --request-timeout below the upstream's time: the gateway's own timeout must decide.
    server = await startServer({ args: ['--upstream', `${upstream.url}/base/`, '--upstream-timeout', '10', '--request-timeout', '2'] });
  });
  after(async () => {
    await server?.stop();
    await upstream.stop();
  });

  let token = '';

  it('puts the base path in front of the request path', async () => {
    const password = await addUser(server, 'dora');
    token = (await login(server.url, 'dora', password)).access_token;
    const res = await fetch(`${server.url}/v1/items?q=1`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Echo).url, '/base/v1/items?q=1');
    const anonymous = await fetch(`${server.url}/v1/items`);
    assert.equal(anonymous.status, 401);
    assert.equal((await json(anonymous)).error, 'invalid_token');
  });

  it('waits for a slow upstream up to --upstream-timeout even past --request-timeout', async () => {
    const res = await fetch(`${server.url}/slow`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'late');
    assert.equal(upstream.seen.at(-1), 'GET /base/slow');
  });
});

describe('gateway configuration', () => {
  it('refuses an upstream URL with credentials or a query at start, with exit code 2', async () => {
    for (const upstreamUrl of ['http://user:pw@127.0.0.1:9', 'http://127.0.0.1:9/base?x=1']) {
      await assert.rejects(startServer({ args: ['--upstream', upstreamUrl] }), (err: Error) => {
        assert.match(err.message, /exited with 2/);
        assert.match(err.message, /--upstream \(RCAUTH_UPSTREAM\)/);
        return true;
      });
    }
  });
});
