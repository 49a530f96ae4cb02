import type { FastifyRequest } from 'fastify';
import { InsufficientScope, InvalidToken } from '../core/errors.js';
import type { AccessTokenClaims } from '../verify/check.js';
import type { TokenInspector } from '../core/introspection.js';
import type { AccountRecord } from '../core/store.js';
import { issuerOf, type AppDeps } from './context.js';

const REALM = 'rcauth';
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/** RFC 6750 §3: a missing token gets the bare challenge; a bad one names the error. */
function challenge(err?: InvalidToken | InsufficientScope): string {
  if (!err) return `Bearer realm="${REALM}"`;
  const scope = err instanceof InsufficientScope ? `, scope="${err.scope}"` : '';
  return `Bearer realm="${REALM}", error="${err.code}", error_description="${err.message.replace(/["\\]/g, '')}"${scope}`;
}

/**
 * Checks the request's bearer token (signature, exp/iss/aud, revocation) and that
 * it carries one of `scopes`; throws 401/403 with the RFC 6750 challenge.
 */
export async function requireBearer(
  deps: AppDeps,
  request: FastifyRequest,
  scopes: readonly string[],
  // The gateway passes a checker that remembers verdicts for a few seconds.
  inspector: Pick<TokenInspector, 'check'> = deps.core.inspector,
): Promise<{ claims: AccessTokenClaims; account: AccountRecord }> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    const err = new InvalidToken('A bearer token is required.');
    err.headers['www-authenticate'] = challenge();
    throw err;
  }
  const match = BEARER.exec(header);
  let result: { claims: AccessTokenClaims; account: AccountRecord };
  try {
    if (!match) throw new InvalidToken('The Authorization header is not a bearer token.');
    result = await inspector.check(match[1]!, issuerOf(request, deps.config));
  } catch (err) {
    if (err instanceof InvalidToken) err.headers['www-authenticate'] = challenge(err);
    throw err;
  }
  if (scopes.length > 0 && !scopes.some((s) => result.claims.scp.includes(s))) {
    const err = new InsufficientScope(scopes[0]!);
    err.headers['www-authenticate'] = challenge(err);
    throw err;
  }
  return result;
}
