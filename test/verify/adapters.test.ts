// The adapters through real servers on 127.0.0.1 and real fetch: a Fastify
// instance (preHandler and plugin) and a node:http server running the
// Express-style middleware.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { createVerifier, expressVerifier, fastifyAuth, fastifyVerifier } from '../../src/verify/index.js';
import type { AccessTokenClaims, Verifier } from '../../src/verify/index.js';
import { AUDIENCE, claimsAt, makeKey, sign, startIssuer } from './fixtures.js';
import type { FakeIssuer, TestKey } from './fixtures.js';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface Answer {
  status: number;
  challenge: string | null;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function call(url: string, authorization?: string): Promise<Answer> {
  const res = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
  return {
    status: res.status,
    challenge: res.headers.get('www-authenticate'),
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

/** The behaviour both adapters must show, run against each. */
function sharedBehaviour(ctx: () => { base: string; issuer: FakeIssuer; key: TestKey }): void {
  it('200 with the claims for a valid token', async () => {
    const { base, issuer, key } = ctx();
    const res = await call(`${base}/me`, `Bearer ${await sign(key, claimsAt(issuer.issuer, nowSeconds()))}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.sub, 'alice');
  });

  it('401 with the bare challenge for a missing token (RFC 6750 §3.1)', async () => {
    const { base } = ctx();
    const res = await call(`${base}/me`);
    assert.equal(res.status, 401);
    assert.equal(res.challenge, 'Bearer realm="api"');
    assert.equal(res.body.error, 'invalid_token');
    assert.equal(typeof res.body.error_description, 'string');
  });

  it('401 invalid_token with error and description for a bad token', async () => {
    const { base, issuer, key } = ctx();
    const expired = await sign(key, claimsAt(issuer.issuer, nowSeconds() - 7200));
    const res = await call(`${base}/me`, `Bearer ${expired}`);
    assert.equal(res.status, 401);
    assert.equal(res.challenge, 'Bearer realm="api", error="invalid_token", error_description="token expired"');
    assert.deepEqual(res.body, { error: 'invalid_token', error_description: 'token expired' });
  });

  it('401 for a malformed Authorization header', async () => {
    const { base } = ctx();
    const res = await call(`${base}/me`, 'Bearer a b');
    assert.equal(res.status, 401);
    assert.match(res.challenge ?? '', /error="invalid_token"/);
  });

  it('403 insufficient_scope with scope in the challenge', async () => {
    const { base, issuer, key } = ctx();
    const res = await call(`${base}/admin`, `Bearer ${await sign(key, claimsAt(issuer.issuer, nowSeconds()))}`);
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'insufficient_scope');
    assert.match(res.challenge ?? '', /^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="rcauth:admin"$/);
    const admin = await sign(key, claimsAt(issuer.issuer, nowSeconds(), { scp: ['rcauth:admin'] }));
    assert.equal((await call(`${base}/admin`, `Bearer ${admin}`)).status, 200);
  });
}

describe('adapters', () => {
  let issuer: FakeIssuer;
  let key: TestKey;
  let verifier: Verifier;

  before(async () => {
    key = await makeKey('ES256');
    issuer = await startIssuer([key.jwk]);
    verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  });
  after(() => issuer.close());

  describe('fastifyAuth (preHandler)', () => {
    let app: FastifyInstance;
    let base: string;

    before(async () => {
      app = Fastify();
      app.get('/me', { preHandler: fastifyAuth(verifier, { realm: 'api' }) }, async (request) => request.auth);
      app.get('/admin', { preHandler: fastifyAuth(verifier, { realm: 'api', scope: 'rcauth:admin' }) }, async (request) => ({ sub: request.auth?.sub }));
      const gone = await startIssuer();
      await gone.close(); // a port nobody listens on any more
      const down = createVerifier({ issuer: gone.issuer, audience: AUDIENCE, jwks: { timeoutMs: 1000 } });
      app.get('/down', { preHandler: fastifyAuth(down, { realm: 'api' }) }, async () => ({ reached: true }));
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(() => app.close());

    sharedBehaviour(() => ({ base, issuer, key }));

    it('503 with Retry-After and no challenge when the issuer is unreachable', async () => {
      const res = await call(`${base}/down`, `Bearer ${await sign(key, claimsAt(issuer.issuer, nowSeconds()))}`);
      assert.equal(res.status, 503);
      assert.equal(res.retryAfter, '1');
      assert.equal(res.challenge, null);
      assert.equal(res.body.error, 'temporarily_unavailable');
    });
  });

  describe('fastifyVerifier (plugin)', () => {
    let app: FastifyInstance;
    let base: string;

    before(async () => {
      app = Fastify();
      app.get('/public', async () => ({ open: true }));
      await app.register(async (api) => {
        await api.register(fastifyVerifier(verifier, { realm: 'api' }));
        api.get('/me', async (request) => request.auth);
        api.get('/admin', { preHandler: fastifyAuth(verifier, { realm: 'api', scope: 'rcauth:admin' }) }, async (request) => ({ sub: request.auth?.sub }));
      }, { prefix: '/api' });
      base = await app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(() => app.close());

    sharedBehaviour(() => ({ base: `${base}/api`, issuer, key }));

    it('protects only the context it is registered in, and names itself', async () => {
      const res = await fetch(`${base}/public`);
      assert.equal(res.status, 200);
      assert.match(app.printPlugins(), /recoveryconnect-auth\/verify/);
    });

    it('can be registered twice in nested contexts', async () => {
      const nested = Fastify();
      nested.register(fastifyVerifier(verifier));
      nested.register(async (inner) => {
        inner.register(fastifyVerifier(verifier, { scope: 'x' }));
      });
      await nested.ready();
      await nested.close();
    });
  });

  describe('expressVerifier (on node:http)', () => {
    let server: Server;
    let base: string;

    before(async () => {
      const me = expressVerifier(verifier, { realm: 'api' });
      const admin = expressVerifier(verifier, { realm: 'api', scope: ['rcauth:admin'] });
      server = createServer((req: IncomingMessage & { auth?: AccessTokenClaims }, res) => {
        const mw = req.url === '/admin' ? admin : me;
        mw(req, res, (err?: unknown) => {
          res.setHeader('content-type', 'application/json');
          if (err) {
            res.statusCode = 500;
            res.end(JSON.stringify({ error: 'server_error' }));
            return;
          }
          res.end(JSON.stringify(req.auth));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    sharedBehaviour(() => ({ base, issuer, key }));

    it('passes unexpected errors to next(err)', async () => {
      const broken = { verifyAuthorization: async () => { throw new Error('bug'); } };
      const received: unknown[] = [];
      const req = { headers: { authorization: 'Bearer x' } };
      const res = { statusCode: 200, setHeader: () => undefined, end: () => undefined };
      await new Promise<void>((resolve) => {
        expressVerifier(broken)(req, res, (err) => {
          received.push(err);
          resolve();
        });
      });
      assert.equal((received[0] as Error).message, 'bug');
    });
  });
});
