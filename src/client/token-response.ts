/**
 * Reading answers of `POST /api/{version}/auth`: the documented token response, or
 * an RFC 6749 §5.2 error body. Bodies are never copied into errors — a half-broken
 * token response still holds a token.
 */
import { RecoveryConnectError } from './errors.js';

/** The documented success body (seed document, spec §3). */
export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  access_token: string;
  refresh_token: string;
}

/** Longest server-provided description we keep; a page of HTML is not a description. */
const MAX_DESCRIPTION = 300;
// RFC 6749 §5.2: error codes are printable ASCII without `"` and `\`.
const ERROR_CODE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/**
 * Parses a 2xx body. Throws `bad_response` naming the offending member, never its value.
 *
 * @example parseTokenResponse('{"token_type":"Bearer","expires_in":3600,"access_token":"…","refresh_token":"…"}', 200)
 */
export function parseTokenResponse(text: string, status: number): TokenResponse {
  const body = parseJson(text);
  const bad = (what: string): RecoveryConnectError =>
    new RecoveryConnectError('bad_response', `The auth endpoint answered ${status} without a valid token response (${what}).`, {
      status,
    });
  if (!isRecord(body)) throw bad('the body is not a JSON object');
  const { token_type, expires_in, access_token, refresh_token } = body;
  // RFC 6749 §5.1: token_type is case-insensitive.
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') throw bad('token_type is not "Bearer"');
  if (typeof expires_in !== 'number' || !Number.isFinite(expires_in) || expires_in <= 0) {
    throw bad('expires_in is not a positive number');
  }
  if (!isToken(access_token)) throw bad('access_token is missing or not a token');
  if (!isToken(refresh_token)) throw bad('refresh_token is missing or not a token');
  return { token_type: 'Bearer', expires_in, access_token, refresh_token };
}

/**
 * Turns a non-2xx answer into an error: the body's `error` code when it has one,
 * otherwise `bad_response`. `redact` removes any secret the client holds from the
 * server's description (a careless server may echo the request).
 */
export function errorFromResponse(
  status: number,
  text: string,
  retryAfterMs: number | undefined,
  redact: (text: string) => string,
): RecoveryConnectError {
  const body = parseJson(text);
  const code = isRecord(body) && typeof body.error === 'string' && ERROR_CODE.test(body.error) ? body.error : undefined;
  const rawDescription = isRecord(body) && typeof body.error_description === 'string' ? body.error_description : undefined;
  const description =
    rawDescription === undefined ? undefined : redact(rawDescription).slice(0, MAX_DESCRIPTION);
  const options = { status, ...(description === undefined ? {} : { description }), retryAfterMs };
  if (code === undefined) {
    return new RecoveryConnectError('bad_response', `The auth endpoint answered ${status} without an error code.`, options);
  }
  const message = `Authentication failed with ${code} (HTTP ${status})${description ? `: ${description}` : '.'}`;
  return new RecoveryConnectError(code, message, options);
}

/** JSON.parse without its error: V8's SyntaxError quotes the input, which may be a token. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// A token goes into an HTTP header: it must be non-empty visible ASCII (RFC 6750 §2.1 b64token is narrower still).
function isToken(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value);
}
