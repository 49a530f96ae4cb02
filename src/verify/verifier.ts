/**
 * `createVerifier`: what an API service uses. It composes the checker with the
 * remote JWKS key source and, optionally, the revocation check.
 */
import { checkAccessToken } from './check.js';
import type { AccessTokenClaims, KeyResolver } from './check.js';
import { parseBearer } from './bearer.js';
import { TokenError } from './errors.js';
import { createRemoteKeySource } from './jwks.js';
import { createRevocationChecker } from './revocation.js';
import type { RevocationChecker, RevocationOptions } from './revocation.js';

export interface VerifierOptions {
  /** Expected `iss`, e.g. `https://auth.example`. */
  issuer: string;
  /** Expected `aud`, e.g. `api://default`. */
  audience: string;
  /** JWK Set URL; default: discovered from `${issuer}/.well-known/oauth-authorization-server`. */
  jwksUrl?: string;
  /** Leeway for `exp`/`nbf`/`iat` in seconds, for clock skew between hosts. Default 5. */
  clockTolerance?: number;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Ask the issuer whether the token was revoked (RFC 7662), after the local checks. */
  revocation?: RevocationOptions;
  /** Key-set cache bound, refetch cooldown and HTTP timeout; see {@link createRemoteKeySource}. */
  jwks?: { cacheMaxAgeMs?: number; cooldownMs?: number; timeoutMs?: number };
  /** Use these keys instead of fetching the JWKS (the server passes its own key ring). */
  keySource?: KeyResolver;
  /** Clock in ms since the epoch; tests move it instead of sleeping. Default `Date.now`. */
  now?: () => number;
}

export interface Verifier {
  /** Verifies a raw token; throws {@link TokenError}. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Verifies the token of an `Authorization` header value; a missing token throws `invalid_token` with `missing: true`. */
  verifyAuthorization(header: string | undefined): Promise<AccessTokenClaims>;
}

const DEFAULT_CLOCK_TOLERANCE = 5;
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Creates the token verifier for a resource server.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://auth.example', audience: 'api://default' });
 * const claims = await verifier.verifyAuthorization(request.headers.authorization);
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null) throw new TypeError('options are required');
  const { issuer, audience } = options;
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issuer must be a non-empty string');
  if (typeof audience !== 'string' || audience === '') throw new TypeError('audience must be a non-empty string');
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError('clockTolerance must be a non-negative number of seconds');
  }
  const doFetch = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;

  const resolveKey: KeyResolver = options.keySource ?? createRemoteKeySource({
    issuer,
    ...(options.jwksUrl !== undefined ? { jwksUrl: options.jwksUrl } : {}),
    ...options.jwks,
    fetch: doFetch,
    now,
  });
  const checkNotRevoked: RevocationChecker | undefined = options.revocation
    ? createRevocationChecker({ ...options.revocation, fetch: doFetch, timeoutMs: options.jwks?.timeoutMs ?? DEFAULT_TIMEOUT_MS, now })
    : undefined;
  const checkOptions = Object.freeze({ issuer, audience, clockTolerance });

  async function verify(token: string): Promise<AccessTokenClaims> {
    const claims = await checkAccessToken(token, resolveKey, { ...checkOptions, currentDate: new Date(now()) });
    if (checkNotRevoked) await checkNotRevoked(claims.jti, token);
    return claims;
  }

  async function verifyAuthorization(header: string | undefined): Promise<AccessTokenClaims> {
    const token = parseBearer(header);
    if (token === null) throw new TokenError('invalid_token', 'a bearer token is required', { missing: true });
    return verify(token);
  }

  return Object.freeze({ verify, verifyAuthorization });
}
