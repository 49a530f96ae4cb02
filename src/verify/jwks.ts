/**
 * The SDK's key source: the issuer's JWK Set (RFC 7517 §5), fetched over HTTP,
 * cached, and refreshed once when a token names a key we have not seen (key
 * rotation, SPEC §5). Each key is pinned to one algorithm (RFC 8725 §3.1), which
 * the checker then enforces.
 *
 * Fetches are single-flight: concurrent callers share one request. A refetch
 * triggered by an unknown `kid` happens at most once per cooldown, so a stream of
 * tokens with made-up kids cannot turn into a stream of requests to the issuer.
 */
import { importJWK } from 'jose';
import type { JWK } from 'jose';
import type { KeyResolver, PinnedKey } from './check.js';
import { TokenError, invalidToken } from './errors.js';

export interface RemoteKeySourceOptions {
  /** The issuer; used to discover `jwks_uri` when `jwksUrl` is not given. */
  issuer: string;
  /** The JWK Set URL, e.g. `https://auth.example/oauth2/v1/keys`. Default: discovered (RFC 8414). */
  jwksUrl?: string;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Upper bound for caching the key set; a shorter `Cache-Control: max-age` wins. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** At most one refetch for an unknown `kid` per this many ms. Default 30 s. */
  cooldownMs?: number;
  /** Timeout of each HTTP request. Default 5 s. */
  timeoutMs?: number;
  /** Clock in ms since the epoch; tests move it instead of sleeping. Default `Date.now`. */
  now?: () => number;
}

const DEFAULTS = { cacheMaxAgeMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 } as const;

/** Never cache for less than this, whatever `max-age` says: a `max-age=0` must not mean a fetch per request. */
const MIN_CACHE_MS = 1_000;

/** A JWK Set larger than this is refused (ours holds a handful of keys). */
const MAX_BODY_BYTES = 512 * 1024;

/** Algorithms a published verification key may be pinned to: asymmetric only (RFC 8725 §3.2). */
const ASYMMETRIC_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

/** RFC 7518 §3.4: each curve has exactly one ECDSA algorithm. */
const EC_ALG_BY_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

interface KeySet {
  keys: Map<string, PinnedKey>;
  expiresAt: number;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a non-negative number`);
  return value;
}

/**
 * A {@link KeyResolver} backed by the issuer's JWKS.
 *
 * @example
 * const keys = createRemoteKeySource({ issuer: 'https://auth.example' }); // discovers jwks_uri
 * const claims = await checkAccessToken(token, keys, { issuer: 'https://auth.example', audience: 'api://default' });
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): KeyResolver {
  if (typeof options?.issuer !== 'string' || options.issuer === '') throw new TypeError('issuer must be a non-empty string');
  if (options.jwksUrl !== undefined) new URL(options.jwksUrl); // throws TypeError on a bad URL, at start
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('fetch must be a function');
  const cacheMaxAgeMs = positive(options.cacheMaxAgeMs, DEFAULTS.cacheMaxAgeMs, 'cacheMaxAgeMs');
  const cooldownMs = positive(options.cooldownMs, DEFAULTS.cooldownMs, 'cooldownMs');
  const timeoutMs = positive(options.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs');
  const now = options.now ?? Date.now;
  const issuer = options.issuer;

  let jwksUrl = options.jwksUrl;
  let current: KeySet | undefined;
  let inflight: Promise<KeySet | undefined> | undefined;
  let lastKidRefetchAt = -Infinity;
  let retryAfterFailure = -Infinity;

  async function getJson(url: string): Promise<{ body: unknown; maxAgeMs: number | undefined }> {
    const res = await doFetch(url, {
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`GET ${url} answered ${res.status}`);
    }
    if (Number(res.headers.get('content-length')) > MAX_BODY_BYTES) {
      await res.body?.cancel();
      throw new Error(`GET ${url}: response too large`);
    }
    const text = await res.text();
    if (text.length > MAX_BODY_BYTES) throw new Error(`GET ${url}: response too large`);
    return { body: JSON.parse(text), maxAgeMs: cacheControlMaxAgeMs(res.headers.get('cache-control')) };
  }

  async function discoverJwksUrl(): Promise<string> {
    // RFC 8414 §3.1 inserts the well-known segment before the issuer's path; many
    // deployments serve it under the issuer instead, so try that form second.
    const failures: unknown[] = [];
    for (const url of metadataUrls(issuer)) {
      try {
        const { body } = await getJson(url);
        const meta = body as { issuer?: unknown; jwks_uri?: unknown };
        // RFC 8414 §3.3: the metadata's issuer MUST be identical to the one we expect.
        if (meta?.issuer !== issuer) throw new Error(`metadata at ${url} is for another issuer`);
        if (typeof meta.jwks_uri !== 'string') throw new Error(`metadata at ${url} has no jwks_uri`);
        new URL(meta.jwks_uri);
        return meta.jwks_uri;
      } catch (err) {
        failures.push(err);
      }
    }
    throw new AggregateError(failures, `no usable authorization server metadata for ${issuer}`);
  }

  async function load(): Promise<KeySet> {
    jwksUrl ??= await discoverJwksUrl();
    const { body, maxAgeMs } = await getJson(jwksUrl);
    const keys = await importKeySet(body);
    const ttl = Math.max(MIN_CACHE_MS, Math.min(cacheMaxAgeMs, maxAgeMs ?? cacheMaxAgeMs));
    return { keys, expiresAt: now() + ttl };
  }

  /** Single flight: every caller during a fetch gets that fetch's result. */
  function refresh(): Promise<KeySet | undefined> {
    if (inflight) return inflight;
    if (!current && now() < retryAfterFailure) {
      return Promise.reject(new TokenError('temporarily_unavailable', 'signing keys unavailable'));
    }
    inflight = load().then(
      (set) => {
        current = set;
        return set;
      },
      (err: unknown) => {
        // Keep serving the keys we have (the issuer may be restarting) and retry
        // after a cooldown; without any keys nothing can be verified: 503, not
        // 401, and at most one attempt per MIN_CACHE_MS.
        if (current) {
          current = { keys: current.keys, expiresAt: now() + Math.max(MIN_CACHE_MS, cooldownMs) };
          return current;
        }
        retryAfterFailure = now() + MIN_CACHE_MS;
        throw new TokenError('temporarily_unavailable', 'signing keys unavailable', { cause: err });
      },
    ).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  return async function resolveRemoteKey(header) {
    // RFC 7515 §4.1.4 makes kid optional, but our tokens always carry one (SPEC §3)
    // and guessing a key for a kid-less token is how confusion bugs start.
    if (header.kid === undefined) throw invalidToken('token has no "kid"');
    const kid = header.kid;

    let fetched = false;
    let set: KeySet | undefined = current;
    if (!set || now() >= set.expiresAt) {
      set = await refresh();
      fetched = true;
    }
    let found = set?.keys.get(kid);
    if (found) return found;

    // Unknown kid: perhaps the issuer rotated its key since our last fetch. Join a
    // fetch in progress, or start one if the cooldown allows (RFC 7517 §5 gives no
    // rotation signal, so the kid itself is the signal).
    if (!fetched && inflight) {
      set = await inflight;
      fetched = true;
      found = set?.keys.get(kid);
      if (found) return found;
    }
    if (!fetched && now() - lastKidRefetchAt >= cooldownMs) {
      lastKidRefetchAt = now();
      set = await refresh();
      found = set?.keys.get(kid);
      if (found) return found;
    }
    throw invalidToken('unknown key id');
  };
}

/** `Cache-Control: max-age=N` in ms; `no-store`/`no-cache` count as 0. */
function cacheControlMaxAgeMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const directives = header.toLowerCase().split(',').map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age="?(\d+)"?$/.exec(d);
    if (m) return Number(m[1]) * 1000;
  }
  return undefined;
}

function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const rfc8414 = `${url.origin}/.well-known/oauth-authorization-server${path}`;
  const appended = `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
  return rfc8414 === appended ? [rfc8414] : [rfc8414, appended];
}

/** The algorithm a published key is pinned to, or undefined when it must not be used. */
function pinnedAlg(jwk: JWK): string | undefined {
  if (jwk.alg !== undefined) return ASYMMETRIC_ALGS.has(jwk.alg) ? jwk.alg : undefined;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && typeof jwk.crv === 'string') return EC_ALG_BY_CURVE[jwk.crv];
  return undefined;
}

/**
 * Imports the usable verification keys of a JWK Set, by kid. A key is skipped
 * (never the whole set) when it has no kid, is meant for encryption (RFC 7517
 * §4.2 `use`, §4.3 `key_ops`), is symmetric or private, has no algorithm we can
 * pin, or does not import. Keys sharing a kid are all dropped: RFC 7517 §4.5
 * wants distinct kids, and an ambiguous kid must not pick a key at random.
 */
export async function importKeySet(body: unknown): Promise<Map<string, PinnedKey>> {
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new Error('not a JWK Set: "keys" is missing');
  const byKid = new Map<string, PinnedKey>();
  const duplicated = new Set<string>();
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const jwk = entry as JWK;
    if (typeof jwk.kid !== 'string' || jwk.kid === '') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    if (jwk.kty === 'oct' || 'd' in jwk) continue;
    const alg = pinnedAlg(jwk);
    if (!alg) continue;
    if (byKid.has(jwk.kid) || duplicated.has(jwk.kid)) {
      byKid.delete(jwk.kid);
      duplicated.add(jwk.kid);
      continue;
    }
    try {
      const key = await importJWK(jwk, alg);
      if (key instanceof Uint8Array) continue;
      byKid.set(jwk.kid, { key, alg });
    } catch {
      // A key we cannot import (wrong kty for its alg, bad curve...) is skipped.
    }
  }
  return byKid;
}
