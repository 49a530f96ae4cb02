/**
 * Errors of the verify SDK are data: a stable RFC 6750 §3.1 `code`, the HTTP
 * `status` that goes with it and a human `description`. {@link errorResponse} is
 * the one place in this module that turns them into a wire answer; the adapters
 * (Fastify, Express) only copy what it returns.
 *
 * Descriptions never contain the token or any of its claims: they name the rule
 * that failed. The low-level reason (a jose error, a network failure) travels in
 * `cause` for logs.
 */

export type TokenErrorCode = 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

const STATUS = {
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
} as const satisfies Record<TokenErrorCode, number>;

export interface TokenErrorOptions {
  cause?: unknown;
  /** `insufficient_scope`: the scope(s) the resource needs, for the challenge (RFC 6750 §3). */
  scope?: string;
  /**
   * The request carried no bearer token at all. RFC 6750 §3.1: such a request
   * gets the bare challenge, without an error code.
   */
  missing?: boolean;
}

/**
 * A bearer token was refused (401 `invalid_token`), lacks a scope (403
 * `insufficient_scope`) or could not be checked right now (503
 * `temporarily_unavailable`: the issuer's keys or introspection endpoint are
 * unreachable).
 *
 * @example
 * try { await verifier.verify(token) } catch (err) {
 *   if (err instanceof TokenError) reply(err.status, { error: err.code, error_description: err.description });
 * }
 */
export class TokenError extends Error {
  readonly code: TokenErrorCode;
  readonly status: 401 | 403 | 503;
  readonly description: string;
  readonly scope: string | undefined;
  readonly missing: boolean;

  constructor(code: TokenErrorCode, description: string, options: TokenErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenError';
    this.code = code;
    this.status = STATUS[code];
    this.description = description;
    this.scope = options.scope;
    this.missing = options.missing === true;
  }
}

/** Shorthand for the most common failure: 401 `invalid_token`. */
export function invalidToken(description: string, cause?: unknown): TokenError {
  return new TokenError('invalid_token', description, { cause });
}

// RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E, scope tokens
// %x21 / %x23-5B / %x5D-7E (RFC 6749 §3.3), i.e. printable ASCII without `"` and `\`.
const NOT_DESCRIPTION_CHAR = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/g;
const NOT_SCOPE_CHAR = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

function quoted(value: string): string {
  // RFC 9110 §5.6.4 quoted-string; realm is operator-supplied, so escape rather than drop.
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '')}"`;
}

/**
 * The `WWW-Authenticate` challenge for a refused request (RFC 6750 §3).
 *
 * - no error, or a missing token: the bare challenge, `Bearer realm="api"` (§3.1:
 *   "the resource server SHOULD NOT include an error code");
 * - `invalid_token`: `Bearer realm="api", error="invalid_token", error_description="token expired"`;
 * - `insufficient_scope`: the same plus `scope="orders:write"`.
 *
 * `temporarily_unavailable` is not a Bearer error code (RFC 6750 §6.2), so it
 * also gets the bare challenge; the adapters do not send a challenge with 503.
 */
export function wwwAuthenticate(err?: TokenError, realm?: string): string {
  const params: string[] = [];
  if (realm !== undefined) params.push(`realm=${quoted(realm)}`);
  if (err && !err.missing && err.code !== 'temporarily_unavailable') {
    params.push(`error="${err.code}"`);
    params.push(`error_description="${err.description.replace(NOT_DESCRIPTION_CHAR, '')}"`);
    if (err.code === 'insufficient_scope' && err.scope) {
      params.push(`scope="${err.scope.replace(NOT_SCOPE_CHAR, '')}"`);
    }
  }
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** What a refused request is answered with. */
export interface ErrorResponse {
  status: 401 | 403 | 503;
  headers: Record<string, string>;
  body: { error: TokenErrorCode; error_description: string };
}

/**
 * Turns a {@link TokenError} into status, headers and JSON body — the one place
 * that does so. 401/403 carry the RFC 6750 §3 challenge; 503 carries `Retry-After`.
 */
export function errorResponse(err: TokenError, realm?: string): ErrorResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (err.status === 503) headers['retry-after'] = '1';
  else headers['www-authenticate'] = wwwAuthenticate(err, realm);
  return { status: err.status, headers, body: { error: err.code, error_description: err.description } };
}
