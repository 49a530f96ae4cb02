/**
 * The integrated-customer client: logs in lazily, keeps one access token fresh for
 * every caller, and retries what is safe to retry. Global fetch only, no server code.
 */
import { parseRetryAfter, retryDelay, sleep } from './backoff.js';
import { RecoveryConnectError } from './errors.js';
import { discard, isReplayable, readText, send, type Attempt } from './http.js';
import { resolveOptions, type RecoveryConnectClientOptions, type ResolvedOptions } from './options.js';
import { errorFromResponse, parseTokenResponse, type TokenResponse } from './token-response.js';

/** Statuses that mean "not now, try again": throttled, or the server's store is down. */
const RETRYABLE = new Set([429, 503]);

/** The token pair we hold, with the times computed from when it was requested. */
interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** From here on, callers trigger a renewal (the `refreshAt` fraction of the lifetime). */
  readonly renewAtMs: number;
  readonly expiresAtMs: number;
  /** The API answered 401 to this access token: never hand it out again. */
  rejected: boolean;
}

/**
 * A RecoveryConnect API client for integrated customers.
 *
 * It logs in on first use (`POST {baseUrl}/api/{version}/auth` with the username and
 * password), renews the access token at `refreshAt` of its lifetime with the refresh
 * token (falling back to a password login when the server refuses or does not offer
 * refreshes), sends it as `Authorization: Bearer …`, and retries once after a 401 and
 * up to `maxRetries` times after a 429 or 503. Concurrent callers share one login or
 * refresh. Failures are {@link RecoveryConnectError}s with a stable `code`; neither
 * they nor the client ever show the password or a token.
 *
 * @example
 * ```ts
 * import { RecoveryConnectClient } from 'recoveryconnect-auth/client';
 *
 * const client = new RecoveryConnectClient({
 *   baseUrl: 'https://api.mbsisystems.com',
 *   username: process.env.RC_USERNAME!,
 *   password: process.env.RC_PASSWORD!,
 *   version: 'v140',
 * });
 * const response = await client.fetch('/api/v140/some/resource');
 * console.log(response.status, await response.json());
 * client.close();
 * ```
 */
export class RecoveryConnectClient {
  readonly #options: ResolvedOptions;
  #password: string;
  #session: Session | undefined;
  /** The one login or refresh under way; every caller that needs a token awaits it. */
  #pending: Promise<Session> | undefined;
  /** Bumped by logout()/close() so a login that was already under way cannot store its tokens afterwards. */
  #generation = 0;
  /** Set once the server shows it has no refresh grant (the real API documents none): go straight to a login. */
  #refreshUnsupported = false;
  #closed = false;

  constructor(options: RecoveryConnectClientOptions) {
    this.#options = resolveOptions(options);
    this.#password = options.password;
  }

  /** The base URL requests are resolved against (no trailing slash). */
  get baseUrl(): string {
    return this.#options.base;
  }

  get username(): string {
    return this.#options.username;
  }

  get version(): string {
    return this.#options.version;
  }

  /**
   * A valid access token: the held one, or a fresh one after a login or refresh.
   *
   * If a proactive refresh fails for a passing reason (network, timeout, 429, 5xx)
   * while the held token has not expired yet, that token is returned and the next
   * call tries again. `signal` stops this caller waiting; it does not cancel the
   * shared login, which other callers may be waiting for.
   *
   * @example const token = await client.accessToken();
   */
  async accessToken(options: { signal?: AbortSignal | null } = {}): Promise<string> {
    this.#assertOpen();
    options.signal?.throwIfAborted();
    const session = this.#session;
    if (session !== undefined && !session.rejected && this.#options.now() < session.renewAtMs) return session.accessToken;
    try {
      return (await abortable(this.#renew(), options.signal)).accessToken;
    } catch (error) {
      const stillValid =
        session !== undefined && session === this.#session && !session.rejected && this.#options.now() < session.expiresAtMs;
      if (stillValid && isTransient(error)) return session.accessToken;
      throw error;
    }
  }

  /**
   * `fetch` with `Authorization: Bearer <access token>` added (replacing any the caller
   * set). `input` is a path under `baseUrl` or an absolute URL with the same origin —
   * the token is never sent anywhere else.
   *
   * Returns the response whatever its status, like fetch. After a 401 it renews the
   * token and sends the request once more; after a 429 or 503 it waits (`Retry-After`,
   * backoff) and tries again up to `maxRetries` times. Both need a body that can be
   * sent twice (string, bytes, URLSearchParams, FormData, Blob or none); with a
   * stream body the first answer is returned as is.
   *
   * Rejects with a {@link RecoveryConnectError} (login failures, `network_error`,
   * `timeout`) or with `init.signal`'s reason when the caller aborts.
   *
   * @example const response = await client.fetch('/api/v140/some/resource', { method: 'POST', body: JSON.stringify(data) });
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    this.#assertOpen();
    const url = this.#resolve(input);
    const { maxRetries, maxBackoffMs, now } = this.#options;
    const attempt: Attempt = { fetch: this.#options.fetch, timeoutMs: this.#options.timeoutMs, signal: init.signal };
    const replayable = isReplayable(init.body);
    let renewedAfter401 = false;
    let retries = 0;
    for (;;) {
      const token = await this.accessToken({ signal: init.signal });
      this.#assertOpen();
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      const response = await send(attempt, url, { ...init, headers });

      if (response.status === 401) {
        this.#markRejected(token);
        if (renewedAfter401 || !replayable) return response;
        renewedAfter401 = true;
        await discard(response);
        continue;
      }
      if (RETRYABLE.has(response.status) && replayable && retries < maxRetries) {
        const delay = retryDelay(retries, parseRetryAfter(response.headers.get('retry-after'), now()), maxBackoffMs);
        if (delay === undefined) return response;
        await discard(response);
        await sleep(delay, init.signal ?? undefined);
        retries += 1;
        continue;
      }
      return response;
    }
  }

  /** Forgets the tokens; the next call logs in again. The server session simply expires. */
  logout(): void {
    this.#generation += 1;
    this.#session = undefined;
    this.#pending = undefined;
  }

  /** Forgets the tokens and the password; any later call rejects with `client_closed`. */
  close(): void {
    this.logout();
    this.#password = '';
    this.#closed = true;
  }

  /** What `JSON.stringify(client)` shows: configuration and state, never a secret. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.baseUrl, username: this.username, version: this.version, state: this.#state() };
  }

  /** What `util.inspect`/`console.log` show in Node. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `RecoveryConnectClient { baseUrl: '${this.baseUrl}', username: '${this.username}', version: '${this.version}', state: '${this.#state()}' }`;
  }

  #state(): 'closed' | 'logged in' | 'logged out' {
    if (this.#closed) return 'closed';
    return this.#session === undefined ? 'logged out' : 'logged in';
  }

  #assertOpen(): void {
    if (this.#closed) throw new RecoveryConnectError('client_closed', 'The client was closed.');
  }

  /** Single flight: the first caller starts a refresh or login, the rest share its promise. */
  #renew(): Promise<Session> {
    if (this.#pending !== undefined) return this.#pending;
    const generation = this.#generation;
    const current = this.#session;
    const pending = (async () => {
      const session =
        current !== undefined && !this.#refreshUnsupported ? await this.#refreshOrLogin(current) : await this.#login();
      if (generation === this.#generation) this.#session = session;
      return session;
    })().finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    return pending;
  }

  async #refreshOrLogin(current: Session): Promise<Session> {
    try {
      return await this.#grant({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
    } catch (error) {
      // A refused refresh (expired, revoked or reused token; no refresh route; a 400 from a
      // server that only knows the password body) is settled by the password, which is the
      // documented way in. Throttling and server failures are not refusals: a login would fare no better.
      if (!(error instanceof RecoveryConnectError) || !isRefusal(error)) throw error;
      if (error.status === 404 || error.status === 405 || error.code === 'unsupported_grant_type') {
        this.#refreshUnsupported = true;
      }
      return this.#login();
    }
  }

  #login(): Promise<Session> {
    // Exactly the documented body (seed document): no grant_type, JSON.
    return this.#grant({ username: this.#options.username, password: this.#password });
  }

  /**
   * One call to the auth endpoint, retried on 429/503. It carries no caller's signal:
   * it is shared by every caller waiting for a token, so only the timeout ends it.
   */
  async #grant(body: Record<string, string>): Promise<Session> {
    const { authUrl, maxRetries, maxBackoffMs, now } = this.#options;
    const attempt: Attempt = { fetch: this.#options.fetch, timeoutMs: this.#options.timeoutMs };
    const payload = JSON.stringify(body);
    for (let retries = 0; ; retries += 1) {
      const startedAt = now();
      const response = await send(attempt, authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: payload,
        // Following a 307/308 would resend the password to wherever the Location points.
        redirect: 'manual',
      });
      if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
        await discard(response);
        throw new RecoveryConnectError(
          'bad_response',
          `The auth endpoint ${authUrl} redirected; set baseUrl to the final address.`,
          { status: response.status },
        );
      }
      const text = await readText(response, attempt, authUrl);
      if (response.ok) return this.#sessionFrom(parseTokenResponse(text, response.status), startedAt);

      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      if (RETRYABLE.has(response.status) && retries < maxRetries) {
        const delay = retryDelay(retries, retryAfterMs, maxBackoffMs);
        if (delay !== undefined) {
          await sleep(delay);
          continue;
        }
      }
      throw errorFromResponse(response.status, text, retryAfterMs, (s) => this.#redact(s));
    }
  }

  #sessionFrom(token: TokenResponse, startedAt: number): Session {
    // Counted from when the request left, not when the answer came: errs on the early side.
    const lifetimeMs = token.expires_in * 1000;
    return {
      accessToken: token.access_token,
      refreshToken: token.refresh_token,
      renewAtMs: startedAt + lifetimeMs * this.#options.refreshAt,
      expiresAtMs: startedAt + lifetimeMs,
      rejected: false,
    };
  }

  #markRejected(token: string): void {
    // Only if it is still the token we hold: a concurrent caller may already have renewed it.
    if (this.#session?.accessToken === token) this.#session.rejected = true;
  }

  /** Removes every secret we hold from server-provided text before it goes into an error. */
  #redact(text: string): string {
    let out = text;
    for (const secret of [this.#password, this.#session?.accessToken, this.#session?.refreshToken]) {
      if (secret) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  #resolve(input: string | URL): string {
    const text = input instanceof URL ? input.href : input;
    if (typeof text !== 'string') throw new TypeError('input must be a path or URL string, or a URL');
    const { base, origin } = this.#options;
    if (/^[A-Za-z][A-Za-z\d+.-]*:/.test(text) || text.startsWith('//')) {
      const url = new URL(text, base);
      if (url.origin !== origin) {
        throw new TypeError(`Refusing to send the access token to ${url.origin}: this client is for ${origin}.`);
      }
      return url.href;
    }
    return `${base}${text.startsWith('/') ? '' : '/'}${text}`;
  }
}

/** A 4xx other than 408/429: the server understood and said no. */
function isRefusal(error: RecoveryConnectError): boolean {
  const status = error.status;
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Failures that may pass by themselves, so an unexpired token is still worth using. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof RecoveryConnectError)) return false;
  if (error.code === 'network_error' || error.code === 'timeout') return true;
  return error.status !== undefined && (error.status === 429 || error.status >= 500);
}

/** Lets one caller stop waiting for a shared promise without cancelling it for the others. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (signal === undefined || signal === null) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
