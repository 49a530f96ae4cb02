// Shared fixtures of the verify tests: keys made with jose, tokens signed with
// jose's SignJWT, and a small issuer (JWKS, metadata, introspection) on node:http
// at 127.0.0.1, port 0.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK, JWTHeaderParameters } from 'jose';
import type { KeyResolver } from '../../src/verify/index.js';
import { TokenError } from '../../src/verify/index.js';

export const AUDIENCE = 'api://default';
export const T0 = 1_700_000_000; // a fixed "now", seconds

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK as the issuer publishes it (kid = RFC 7638 thumbprint, alg, use). */
  jwk: JWK;
}

export async function makeKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, privateKey, publicKey, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export function claimsAt(iss: string, now = T0, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ver: 1,
    jti: `AT.${base64url.encode(crypto.getRandomValues(new Uint8Array(18)))}`,
    iss,
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    cid: 'client-1',
    uid: 'u_8c1f2a',
    scp: ['openid', 'offline_access', 'profile'],
    auth_time: now - 10,
    sub: 'alice',
    ...overrides,
  };
}

/** Signs a full claim set (SPEC §3) with jose; `undefined` in `claims` deletes that claim. */
export async function sign(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header } as JWTHeaderParameters)
    .sign(key.privateKey);
}

export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A hand-built token: header.payload.signature with the given raw signature (HMAC or empty). */
export function handBuilt(header: object, payload: object, hmacSecret?: string | Buffer): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  if (hmacSecret === undefined) return `${input}.`;
  return `${input}.${createHmac('sha256', hmacSecret).update(input).digest('base64url')}`;
}

/** A key source over fixed keys, for the checker tests. */
export function staticKeys(...keys: TestKey[]): KeyResolver {
  return async ({ kid }) => {
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new TokenError('invalid_token', 'unknown key id');
    return { key: key.publicKey, alg: key.alg };
  };
}

export function expectTokenError(code: TokenError['code'], description?: string | RegExp) {
  return (err: unknown): boolean => {
    if (!(err instanceof TokenError)) throw err;
    if (err.code !== code) throw new Error(`expected ${code}, got ${err.code}: ${err.description}`);
    if (description instanceof RegExp && !description.test(err.description)) {
      throw new Error(`unexpected description: ${err.description}`);
    }
    if (typeof description === 'string' && err.description !== description) {
      throw new Error(`unexpected description: ${err.description}`);
    }
    return true;
  };
}

export interface Introspection {
  /** What /introspect answers: `active` per token, a status, or a thrown-away connection. */
  answer: (token: string) => { status: number; body: unknown };
  calls: Array<{ token: string; authorization: string | undefined; contentType: string | undefined; hint: string | null }>;
}

export interface FakeIssuer {
  issuer: string;
  jwksUrl: string;
  introspectionUrl: string;
  /** The published keys; change it to rotate. */
  keys: JWK[];
  /** Extra headers on the JWKS answer (e.g. Cache-Control). */
  jwksHeaders: Record<string, string>;
  /** Status of the JWKS answer (200 by default). */
  jwksStatus: number;
  hits: { jwks: number; metadata: number };
  introspection: Introspection;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A stand-in issuer on 127.0.0.1: metadata (RFC 8414), JWKS (RFC 7517), introspection (RFC 7662). */
export async function startIssuer(keys: JWK[] = []): Promise<FakeIssuer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: FakeIssuer = {
    issuer: base,
    jwksUrl: `${base}/oauth2/v1/keys`,
    introspectionUrl: `${base}/oauth2/v1/introspect`,
    keys,
    jwksHeaders: { 'cache-control': 'public, max-age=300' },
    jwksStatus: 200,
    hits: { jwks: 0, metadata: 0 },
    introspection: { answer: () => ({ status: 200, body: { active: true } }), calls: [] },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  server.on('request', (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', base);
      if (req.method === 'GET' && url.pathname.startsWith('/.well-known/oauth-authorization-server')) {
        state.hits.metadata += 1;
        return json(res, 200, { issuer: base, jwks_uri: state.jwksUrl, introspection_endpoint: state.introspectionUrl });
      }
      if (req.method === 'GET' && url.pathname === '/oauth2/v1/keys') {
        state.hits.jwks += 1;
        return json(res, state.jwksStatus, { keys: state.keys }, state.jwksHeaders);
      }
      if (req.method === 'POST' && url.pathname === '/oauth2/v1/introspect') {
        const form = new URLSearchParams(await readBody(req));
        const token = form.get('token') ?? '';
        state.introspection.calls.push({
          token,
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          hint: form.get('token_type_hint'),
        });
        const { status, body } = state.introspection.answer(token);
        return json(res, status, body);
      }
      json(res, 404, { error: 'not_found' });
    })();
  });
  return state;
}

/** A controllable clock in ms, for the `now` options. */
export function manualClock(startSeconds = T0): { now: () => number; advance(ms: number): void } {
  let t = startSeconds * 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}
