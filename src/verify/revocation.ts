/**
 * Optional revocation check through the issuer's RFC 7662 introspection endpoint
 * (SPEC §5: access tokens of a revoked session are refused by the verify SDK "when
 * it is set to check revocation"). Runs only after the signature and claims have
 * been verified, so nothing unverified is sent to the issuer.
 *
 * Answers are cached per `jti` for a short time (default 5 s), which bounds both the
 * load on the issuer and how long a revoked token keeps working.
 */
import { TokenError, invalidToken } from './errors.js';

export interface RevocationOptions {
  /** The issuer's introspection endpoint, e.g. `https://auth.example/oauth2/v1/introspect`. */
  introspectionUrl: string;
  /**
   * A bearer token with scope `rcauth:introspect` (SPEC §4). Access tokens expire,
   * so a long-running service passes a function that returns a current one (e.g.
   * from the `recoveryconnect-auth/client` SDK).
   */
  token: string | (() => string | Promise<string>);
  /** How long an answer is reused, per jti. Default 5000 ms. */
  cacheMs?: number;
}

export interface RevocationCheckerOptions extends RevocationOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

/** Cached answers are bounded; past this, expired entries are swept and then the oldest dropped. */
const MAX_CACHE_ENTRIES = 10_000;

export type RevocationChecker = (jti: string, token: string) => Promise<void>;

/** Builds the check: resolves when the issuer says the token is active, throws a {@link TokenError} otherwise. */
export function createRevocationChecker(options: RevocationCheckerOptions): RevocationChecker {
  new URL(options.introspectionUrl); // TypeError at start for a bad URL
  if (typeof options.token !== 'string' && typeof options.token !== 'function') {
    throw new TypeError('revocation.token must be a string or a function');
  }
  const cacheMs = options.cacheMs ?? 5000;
  if (!Number.isFinite(cacheMs) || cacheMs < 0) throw new TypeError('revocation.cacheMs must be a non-negative number');
  const { now } = options;
  const cache = new Map<string, { at: number; answer: Promise<boolean> }>();

  async function callerToken(): Promise<string> {
    return typeof options.token === 'string' ? options.token : await options.token();
  }

  async function introspect(token: string): Promise<boolean> {
    let res: Response;
    try {
      res = await options.fetch(options.introspectionUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await callerToken()}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        // RFC 7662 §2.1: token (required) and token_type_hint.
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (cause) {
      throw new TokenError('temporarily_unavailable', 'revocation check unavailable', { cause });
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      // Fail closed: an unknown answer is not "active". 503 rather than 401 so that
      // clients retry instead of discarding a token that may be perfectly good.
      throw new TokenError('temporarily_unavailable', 'revocation check unavailable', {
        cause: new Error(`introspection answered ${res.status}`),
      });
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (cause) {
      throw new TokenError('temporarily_unavailable', 'revocation check unavailable', { cause });
    }
    const active = (body as { active?: unknown } | null)?.active;
    // RFC 7662 §2.2: "active" is REQUIRED and boolean.
    if (typeof active !== 'boolean') {
      throw new TokenError('temporarily_unavailable', 'revocation check unavailable', {
        cause: new Error('introspection answer has no boolean "active"'),
      });
    }
    return active;
  }

  function remember(jti: string, answer: Promise<boolean>): void {
    if (cache.size >= MAX_CACHE_ENTRIES) {
      const t = now();
      for (const [key, entry] of cache) if (t - entry.at >= cacheMs) cache.delete(key);
      if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    }
    cache.set(jti, { at: now(), answer });
    // A failed call is not an answer: forget it so the next request asks again.
    answer.catch(() => {
      if (cache.get(jti)?.answer === answer) cache.delete(jti);
    });
  }

  return async function checkNotRevoked(jti, token) {
    const hit = cache.get(jti);
    let answer: Promise<boolean>;
    if (hit && now() - hit.at < cacheMs) {
      answer = hit.answer; // also joins a call in flight for the same token
    } else {
      answer = introspect(token);
      if (cacheMs > 0) remember(jti, answer);
    }
    if (!(await answer)) throw invalidToken('token revoked');
  };
}
