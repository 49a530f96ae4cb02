/**
 * Client options: one place with the defaults, checked once in the constructor and
 * frozen. A bad option is a programming mistake, so it throws `TypeError`.
 */

export interface RecoveryConnectClientOptions {
  /** Where the API lives, e.g. `https://api.mbsisystems.com` (a path prefix is kept). */
  baseUrl: string | URL;
  username: string;
  password: string;
  /** API version in the auth path `/api/{version}/auth`. Default `v140`. */
  version?: string;
  /** The `fetch` to use. Default: the global one. */
  fetch?: typeof fetch;
  /** Per-attempt timeout, covering the whole answer including its body. Default 10 000 ms; `Infinity` disables it. */
  timeoutMs?: number;
  /** Renew the access token after this fraction of `expires_in` has passed. Default 0.9. */
  refreshAt?: number;
  /** Extra attempts after a 429 or 503. Default 2. */
  maxRetries?: number;
  /** Longest wait before a retry; a longer `Retry-After` is not waited for. Default 10 000 ms. */
  maxBackoffMs?: number;
  /** Clock in milliseconds since the epoch. Default `Date.now`; tests move it instead of sleeping. */
  now?: () => number;
}

export interface ResolvedOptions {
  /** Base URL without a trailing slash. */
  readonly base: string;
  readonly origin: string;
  readonly authUrl: string;
  readonly username: string;
  readonly version: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly refreshAt: number;
  readonly maxRetries: number;
  readonly maxBackoffMs: number;
  readonly now: () => number;
}

export const DEFAULTS = Object.freeze({
  version: 'v140',
  timeoutMs: 10_000,
  refreshAt: 0.9,
  maxRetries: 2,
  maxBackoffMs: 10_000,
});

// The version becomes a path segment; anything outside this set could change the path.
const VERSION = /^[A-Za-z0-9._-]+$/;

/**
 * Validates options and fills in defaults. The password is checked but not copied:
 * the client keeps it in a private field, never in an inspectable object.
 */
export function resolveOptions(options: RecoveryConnectClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const base = parseBaseUrl(options.baseUrl);
  requireNonEmptyString('username', options.username);
  requireNonEmptyString('password', options.password);

  const version = options.version ?? DEFAULTS.version;
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw new TypeError('version must be a path segment such as "v140"');
  }

  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('fetch must be a function (no global fetch found)');

  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError('timeoutMs must be a positive number (or Infinity)');
  }
  const refreshAt = options.refreshAt ?? DEFAULTS.refreshAt;
  if (typeof refreshAt !== 'number' || !(refreshAt > 0 && refreshAt <= 1)) {
    throw new TypeError('refreshAt must be a number in (0, 1]');
  }
  const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError('maxRetries must be an integer >= 0');
  const maxBackoffMs = options.maxBackoffMs ?? DEFAULTS.maxBackoffMs;
  if (typeof maxBackoffMs !== 'number' || !Number.isFinite(maxBackoffMs) || maxBackoffMs < 0) {
    throw new TypeError('maxBackoffMs must be a finite number >= 0');
  }
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function');

  return Object.freeze({
    base: base.href.replace(/\/+$/, ''),
    origin: base.origin,
    authUrl: `${base.href.replace(/\/+$/, '')}/api/${version}/auth`,
    username: options.username,
    version,
    fetch: fetchImpl,
    timeoutMs,
    refreshAt,
    maxRetries,
    maxBackoffMs,
    now,
  });
}

function parseBaseUrl(value: unknown): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) throw new TypeError('baseUrl must be a string or URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('baseUrl must be an absolute URL such as https://api.mbsisystems.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('baseUrl must be an http(s) URL');
  // fetch refuses such URLs anyway; refusing here keeps credentials out of the one place they would leak from.
  if (url.username !== '' || url.password !== '') throw new TypeError('baseUrl must not contain credentials');
  if (url.search !== '' || url.hash !== '') throw new TypeError('baseUrl must not have a query or fragment');
  return url;
}

function requireNonEmptyString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}
