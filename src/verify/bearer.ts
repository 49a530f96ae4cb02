import { TokenError } from './errors.js';

/**
 * Upper bound on a token we are willing to parse. Our tokens are well under 2 KiB;
 * the bound keeps a hostile header from costing base64 and JSON work.
 */
export const MAX_TOKEN_LENGTH = 8192;

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token = 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=". We accept exactly one space (HTTP
// parsers already strip the surrounding OWS); the scheme is case-insensitive
// (RFC 9110 §11.1).
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Extracts the bearer token from an `Authorization` header value.
 *
 * Returns `null` when the request carries no bearer credentials at all (no
 * header, an empty one, or another scheme such as `Basic`): RFC 6750 §3.1 wants
 * the bare challenge then. Throws a {@link TokenError} `invalid_token` when the
 * header claims to be Bearer but is malformed. (RFC 6750 §3.1 would allow 400
 * `invalid_request` here; we answer 401 `invalid_token` so that a client's single
 * "401 → get a new token" path covers it.)
 *
 * @example
 * parseBearer('Bearer eyJhbGciOi...') // 'eyJhbGciOi...'
 * parseBearer(undefined)               // null
 * parseBearer('Bearer')                // throws TokenError invalid_token
 */
export function parseBearer(authorization: string | undefined): string | null {
  if (authorization === undefined || authorization === '') return null;
  if (typeof authorization !== 'string') throw new TypeError('authorization must be a string or undefined');
  const scheme = /^\S*/.exec(authorization)![0];
  if (scheme.toLowerCase() !== 'bearer') return null;
  const rest = authorization.slice(scheme.length);
  if (rest.trim() === '') throw new TokenError('invalid_token', 'malformed Authorization header: missing token');
  if (rest[0] !== ' ') throw new TokenError('invalid_token', 'malformed Authorization header');
  const token = rest.slice(1);
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('invalid_token', 'token too long');
  if (!B64TOKEN.test(token)) throw new TokenError('invalid_token', 'malformed Authorization header');
  return token;
}
