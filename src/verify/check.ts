/**
 * THE access-token checker of recoveryconnect-auth (SPEC §3 "Access token", §6
 * "Tokens"). The verify SDK feeds it a remote JWKS; the server's introspection
 * endpoint and gateway feed it the store's keys. jose does the cryptography; this
 * file is the policy around it, as a list of small named steps:
 *
 *   assertCompactJws → assertSafeHeader → resolvePinnedKey → verifySignatureAndTimes
 *   → assertNotIssuedInFuture → assertClaimShapes
 *
 * Nothing is fetched for a token that fails the structural steps, and no claim is
 * trusted before the signature is verified.
 */
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWSAlgorithm, JWTPayload, ProtectedHeaderParameters } from 'jose';
import type { KeyObject } from 'node:crypto';
import { MAX_TOKEN_LENGTH } from './bearer.js';
import { TokenError, invalidToken } from './errors.js';

export { TokenError, wwwAuthenticate, errorResponse } from './errors.js';
export type { TokenErrorCode, TokenErrorOptions, ErrorResponse } from './errors.js';
export { parseBearer, MAX_TOKEN_LENGTH } from './bearer.js';

/** Claims of a recoveryconnect-auth access token (SPEC §3), after verification. */
export interface AccessTokenClaims {
  /** Token format version, `1`. */
  ver: number;
  /** Unique token id, `"AT."` + random characters. */
  jti: string;
  iss: string;
  /** A single audience: SPEC §12 makes `aud` a JSON string. */
  aud: string;
  iat: number;
  exp: number;
  nbf?: number;
  /** Client id. */
  cid: string;
  /** The account's stable, opaque id. */
  uid: string;
  /** Granted scopes. */
  scp: string[];
  /** Seconds of the password login that started the session. */
  auth_time: number;
  /** The username. */
  sub: string;
  /** RFC 9068 §2.2 profile (when the server is set to add it). */
  client_id?: string;
  /** RFC 9068 §2.2.3 profile: space-separated scopes. */
  scope?: string;
}

/** A key pinned to the one algorithm it may verify (RFC 8725 §3.1). */
export interface PinnedKey {
  key: CryptoKey | KeyObject | Uint8Array;
  alg: string;
}

/**
 * Finds the verification key for a token header. It must choose the key by `kid`
 * only — never by the header's `alg` — and return the algorithm that key is
 * pinned to; the checker then refuses any token whose `alg` differs. It throws a
 * {@link TokenError} (`invalid_token` for an unknown kid, `temporarily_unavailable`
 * when the keys cannot be loaded). The header values are unauthenticated input.
 */
export type KeyResolver = (header: { kid?: string; alg?: string }) => Promise<PinnedKey>;

export interface CheckOptions {
  /** Expected `iss`, compared exactly. */
  issuer: string;
  /** Expected `aud`, compared exactly. */
  audience: string;
  /** Leeway in seconds for `exp`, `nbf`, `iat` and `auth_time`. Default 0. */
  clockTolerance?: number;
  /** "Now" for the time checks. Default: the current time. */
  currentDate?: Date;
}

/** Claims every recoveryconnect-auth access token carries (SPEC §3). */
const REQUIRED_CLAIMS = ['ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'sub', 'auth_time'] as const;

/** Token format versions this checker understands. */
const SUPPORTED_VERSIONS: readonly number[] = [1];

/**
 * Header parameters that would let the token choose its own key or its own
 * processing rules. RFC 8725 §3.10 (do not fetch keys from token-supplied URLs:
 * `jku`, `x5u`), RFC 8725 §3.1 / CVE-2018-0114 (`jwk`, `x5c` embed an attacker's
 * key), RFC 7515 §4.1.11 (`crit`: we understand no extension, so refuse them all).
 */
const FORBIDDEN_HEADER_PARAMETERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

/** `typ` values we accept (RFC 7519 §5.1 `JWT`, RFC 9068 §2.1 `at+jwt`); case-insensitive, optional `application/` prefix. */
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt']);

// Three base64url segments (RFC 7515 §7.1); five would be a JWE, which we never accept.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies an access token and returns its claims, or throws a {@link TokenError}.
 *
 * @example
 * const claims = await checkAccessToken(token, keySource, { issuer: 'https://auth.example', audience: 'api://default' });
 * claims.sub; // 'alice'
 */
export async function checkAccessToken(token: string, resolveKey: KeyResolver, opts: CheckOptions): Promise<AccessTokenClaims> {
  if (typeof token !== 'string') throw new TypeError('token must be a string');
  if (typeof resolveKey !== 'function') throw new TypeError('resolveKey must be a function');
  assertCheckOptions(opts);

  assertCompactJws(token);
  const header = assertSafeHeader(token);
  const pinned = await resolvePinnedKey(resolveKey, header);
  const payload = await verifySignatureAndTimes(token, pinned, opts);
  const now = epochSeconds(opts.currentDate ?? new Date());
  const tolerance = opts.clockTolerance ?? 0;
  assertNotIssuedInFuture(payload, now, tolerance);
  return assertClaimShapes(payload, opts);
}

function assertCheckOptions(opts: CheckOptions): void {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options are required');
  if (typeof opts.issuer !== 'string' || opts.issuer === '') throw new TypeError('issuer must be a non-empty string');
  if (typeof opts.audience !== 'string' || opts.audience === '') throw new TypeError('audience must be a non-empty string');
  const tolerance = opts.clockTolerance;
  if (tolerance !== undefined && (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0)) {
    throw new TypeError('clockTolerance must be a non-negative number of seconds');
  }
  if (opts.currentDate !== undefined && !(opts.currentDate instanceof Date && Number.isFinite(opts.currentDate.getTime()))) {
    throw new TypeError('currentDate must be a valid Date');
  }
}

/** Only the JWS Compact Serialization (RFC 7515 §7.1); RFC 8725 §3.1: no unsecured (`alg: none`) tokens. */
function assertCompactJws(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('token too long');
  if (!COMPACT_JWS.test(token)) throw invalidToken('malformed token: not a compact JWS');
  if (token.endsWith('.')) throw invalidToken('unsecured token (no signature)');
}

function assertSafeHeader(token: string): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw invalidToken('malformed token header', cause);
  }
  for (const name of FORBIDDEN_HEADER_PARAMETERS) {
    if (Object.hasOwn(header, name)) throw invalidToken(`header parameter "${name}" is not allowed`);
  }
  // RFC 8725 §3.1: the algorithm is checked against the key, never taken on trust;
  // "none" is refused up front so that no key source is ever consulted for it.
  if (typeof header.alg !== 'string' || header.alg === '') throw invalidToken('missing "alg" header parameter');
  if (header.alg.toLowerCase() === 'none') throw invalidToken('unsecured token ("alg": "none")');
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid === '')) {
    throw invalidToken('invalid "kid" header parameter');
  }
  // RFC 8725 §3.11 explicit typing: accept our own types, refuse anything else
  // (e.g. a signed ID token or logout token presented as an access token).
  if (header.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : '';
    if (!ACCEPTED_TYP.has(typ)) throw invalidToken('unexpected "typ" header parameter');
  }
  return header;
}

async function resolvePinnedKey(resolveKey: KeyResolver, header: ProtectedHeaderParameters): Promise<PinnedKey> {
  const lookup: { kid?: string; alg?: string } = { alg: header.alg! };
  if (header.kid !== undefined) lookup.kid = header.kid;
  let pinned: PinnedKey;
  try {
    pinned = await resolveKey(lookup);
  } catch (err) {
    if (err instanceof TokenError) throw err;
    // A failing key source is an outage, not a bad token: 503, so that clients
    // retry instead of throwing away a good token.
    throw new TokenError('temporarily_unavailable', 'signing keys unavailable', { cause: err });
  }
  if (!pinned || typeof pinned.alg !== 'string' || pinned.alg === '' || pinned.key === undefined) {
    throw new TypeError('KeyResolver must return { key, alg }');
  }
  // RFC 8725 §3.1 / §2.1: the key dictates the algorithm. This refuses `HS256`
  // signed with the RSA public key's bytes, and any other algorithm swap.
  if (header.alg !== pinned.alg) throw invalidToken('algorithm not allowed for this key');
  return pinned;
}

async function verifySignatureAndTimes(token: string, pinned: PinnedKey, opts: CheckOptions): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, pinned.key, {
      algorithms: [pinned.alg as JWSAlgorithm],
      issuer: opts.issuer,
      audience: opts.audience,
      requiredClaims: [...REQUIRED_CLAIMS],
      clockTolerance: opts.clockTolerance ?? 0,
      ...(opts.currentDate ? { currentDate: opts.currentDate } : {}),
    });
    return payload;
  } catch (err) {
    throw fromJoseError(err);
  }
}

/** Maps jose's errors to `invalid_token` with a description that names the failed rule. */
function fromJoseError(err: unknown): TokenError {
  if (err instanceof errors.JWTExpired) return invalidToken('token expired', err);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return invalidToken(`missing required "${err.claim}" claim`, err);
    if (err.reason === 'invalid') return invalidToken(`invalid "${err.claim}" claim`, err);
    switch (err.claim) {
      case 'nbf': return invalidToken('token not yet valid', err);
      case 'iss': return invalidToken('unexpected issuer', err);
      case 'aud': return invalidToken('unexpected audience', err);
      default: return invalidToken(`invalid "${err.claim}" claim`, err);
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalidToken('signature verification failed', err);
  if (err instanceof errors.JOSEAlgNotAllowed) return invalidToken('algorithm not allowed for this key', err);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return invalidToken('malformed token', err);
  // JOSENotSupported, or a TypeError when the resolved key does not fit its pinned
  // algorithm: the token cannot be verified with what we trust.
  return invalidToken('token could not be verified', err);
}

/** RFC 7519 §4.1.6 lets `iat` be anything; a token from the future means a broken or forged issuer clock. */
function assertNotIssuedInFuture(payload: JWTPayload, now: number, tolerance: number): void {
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw invalidToken('invalid "iat" claim');
  if (payload.iat > now + tolerance) throw invalidToken('token issued in the future');
  const authTime = payload['auth_time'];
  if (typeof authTime === 'number' && authTime > now + tolerance) throw invalidToken('invalid "auth_time" claim');
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** SPEC §3: the types of our claims; jose has checked presence, signature, iss/aud membership and times. */
function assertClaimShapes(payload: JWTPayload, opts: CheckOptions): AccessTokenClaims {
  const claims = payload as Record<string, unknown>;
  if (typeof claims.ver !== 'number' || !SUPPORTED_VERSIONS.includes(claims.ver)) throw invalidToken('unsupported token version');
  // SPEC §12: `aud` is one string. jose accepts an array containing our audience; we do not.
  if (claims.aud !== opts.audience) throw invalidToken('unexpected audience');
  if (claims.iss !== opts.issuer) throw invalidToken('unexpected issuer');
  for (const name of ['jti', 'cid', 'uid', 'sub'] as const) {
    if (!isNonEmptyString(claims[name])) throw invalidToken(`invalid "${name}" claim`);
  }
  for (const name of ['iat', 'exp', 'auth_time'] as const) {
    if (!isNumericDate(claims[name])) throw invalidToken(`invalid "${name}" claim`);
  }
  if ((claims.exp as number) <= (claims.iat as number)) throw invalidToken('invalid "exp" claim');
  const scp = claims.scp;
  if (!Array.isArray(scp) || !scp.every((s) => typeof s === 'string')) throw invalidToken('invalid "scp" claim');
  if (claims.client_id !== undefined && !isNonEmptyString(claims.client_id)) throw invalidToken('invalid "client_id" claim');
  if (claims.scope !== undefined && typeof claims.scope !== 'string') throw invalidToken('invalid "scope" claim');
  return payload as unknown as AccessTokenClaims;
}

function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
