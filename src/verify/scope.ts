import type { AccessTokenClaims } from './check.js';
import { TokenError } from './errors.js';

/** True when the token was granted every one of `scopes` (its `scp` claim, SPEC §3). */
export function hasScope(claims: Pick<AccessTokenClaims, 'scp'>, scopes: string | readonly string[]): boolean {
  const needed = typeof scopes === 'string' ? [scopes] : scopes;
  return needed.every((scope) => claims.scp.includes(scope));
}

/**
 * Throws 403 `insufficient_scope` (RFC 6750 §3.1) unless the token carries every
 * one of `scopes`; the error's `scope` feeds the challenge's `scope="..."`.
 *
 * @example
 * const claims = await verifier.verifyAuthorization(req.headers.authorization);
 * requireScope(claims, 'orders:write');
 */
export function requireScope(claims: Pick<AccessTokenClaims, 'scp'>, scopes: string | readonly string[]): void {
  const needed = typeof scopes === 'string' ? [scopes] : [...scopes];
  if (needed.length === 0 || needed.some((s) => typeof s !== 'string' || s === '')) {
    throw new TypeError('requireScope needs one or more non-empty scope names');
  }
  if (!hasScope(claims, needed)) {
    throw new TokenError('insufficient_scope', 'the access token lacks a required scope', { scope: needed.join(' ') });
  }
}
