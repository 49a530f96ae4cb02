import { after, before, beforeEach } from 'node:test';
/**
 * A scripted stand-in for a RecoveryConnect API on 127.0.0.1: an auth endpoint that
 * issues and rotates tokens, and an API that accepts only the live access tokens.
 * Tests count what the client did and override answers with `onAuth`/`onApi`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RecoveryConnectClient, type RecoveryConnectClientOptions } from '../../src/client/index.js';

export const USERNAME = 'alice';
export const PASSWORD = 'correct-horse-battery-staple-42';

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: Record<string, unknown> | undefined;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON, a string as is. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Overrides an answer; `next()` gives (and performs) the default one. */
export type Hook = (request: FakeRequest, next: () => Reply) => Reply | Promise<Reply>;

export class FakeServer {
  url = '';
  version = 'v140';
  expiresIn = 3600;
  /** Password grants received (successful or not). */
  loginAttempts = 0;
  logins = 0;
  /** Refresh grants received (successful or not). */
  refreshAttempts = 0;
  refreshes = 0;
  apiCalls = 0;
  authRequests: FakeRequest[] = [];
  apiRequests: FakeRequest[] = [];
  /** Every token the server ever issued, so tests can look for them in output. */
  issued: string[] = [];
  onAuth: Hook | undefined;
  onApi: Hook | undefined;

  readonly #server: Server;
  readonly #access = new Set<string>();
  readonly #refresh = new Set<string>();

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const request: FakeRequest = {
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          headers: req.headers,
          body,
          json: parseJson(body),
        };
        void this.#answer(request).then(
          async (reply) => {
            if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
            if (res.destroyed) return;
            const isText = typeof reply.body === 'string';
            const payload = reply.body === undefined ? '' : isText ? (reply.body as string) : JSON.stringify(reply.body);
            res.writeHead(reply.status ?? 200, {
              'content-type': isText ? 'text/plain' : 'application/json',
              ...reply.headers,
            });
            res.end(payload);
          },
          (error: unknown) => {
            res.writeHead(500).end(String(error));
          },
        );
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Makes every access token issued so far unknown to the API (as after a key change or revocation). */
  forgetAccessTokens(): void {
    this.#access.clear();
  }

  /** Makes every refresh token issued so far unknown (as after a session ends). */
  forgetRefreshTokens(): void {
    this.#refresh.clear();
  }

  /** The default successful token response; also records the tokens as live. */
  issue(): Reply {
    const access = `at-${randomBytes(12).toString('base64url')}`;
    const refresh = `rt-${randomBytes(12).toString('base64url')}`;
    this.#access.add(access);
    this.#refresh.add(refresh);
    this.issued.push(access, refresh);
    return {
      status: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      body: { token_type: 'Bearer', expires_in: this.expiresIn, access_token: access, refresh_token: refresh },
    };
  }

  async #answer(request: FakeRequest): Promise<Reply> {
    if (request.path === `/api/${this.version}/auth`) {
      this.authRequests.push(request);
      const isRefresh = request.json?.grant_type === 'refresh_token';
      if (isRefresh) this.refreshAttempts += 1;
      else this.loginAttempts += 1;
      const next = (): Reply => this.#auth(request, isRefresh);
      return this.onAuth ? this.onAuth(request, next) : next();
    }
    this.apiCalls += 1;
    this.apiRequests.push(request);
    const next = (): Reply => this.#api(request);
    return this.onApi ? this.onApi(request, next) : next();
  }

  #auth(request: FakeRequest, isRefresh: boolean): Reply {
    const body = request.json;
    if (request.method !== 'POST') return { status: 405, headers: { allow: 'POST' }, body: invalid('invalid_request') };
    if (isRefresh) {
      const token = body?.refresh_token;
      // Rotation: a refresh token works once.
      if (typeof token !== 'string' || !this.#refresh.delete(token)) return { status: 401, body: invalid('invalid_grant') };
      this.refreshes += 1;
      return this.issue();
    }
    if (body?.username !== USERNAME || body?.password !== PASSWORD) return { status: 401, body: invalid('invalid_grant') };
    this.logins += 1;
    return this.issue();
  }

  #api(request: FakeRequest): Reply {
    const auth = request.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    if (!this.#access.has(token)) {
      return { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: invalid('invalid_token') };
    }
    return { status: 200, body: { ok: true, method: request.method, path: request.path, body: request.body } };
  }
}

export async function startFakeServer(): Promise<FakeServer> {
  return new FakeServer().start();
}

function invalid(code: string): { error: string; error_description: string } {
  return { error: code, error_description: `fake server says ${code}` };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A clock tests move by hand; starts at a fixed, realistic time. */
export class ManualClock {
  ms = Date.parse('2026-03-01T12:00:00Z');
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A client for `fake` with the fake's credentials; `options` override anything. */
export function clientFor(fake: FakeServer, options: Partial<RecoveryConnectClientOptions> = {}): RecoveryConnectClient {
  return new RecoveryConnectClient({ baseUrl: fake.url, username: USERNAME, password: PASSWORD, version: fake.version, ...options });
}

/**
 * Registers the usual hooks of a client test suite: one fake server for the suite,
 * its scripted answers reset before each test. `assign` receives the server.
 */
export function useFakeServer(assign: (fake: FakeServer) => void): void {
  let fake: FakeServer;
  before(async () => {
    fake = await startFakeServer();
    assign(fake);
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.onAuth = undefined;
    fake.onApi = undefined;
  });
}
