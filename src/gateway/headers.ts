import type { AccessTokenClaims } from '../verify/check.js';

export type HeaderMap = Record<string, string | string[] | undefined>;

/** The identity headers the gateway adds (SPEC §9); any copy from the caller is removed. */
export const IDENTITY_HEADERS = ['x-auth-subject', 'x-auth-user-id', 'x-auth-client-id', 'x-auth-scopes'] as const;

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) end at the gateway in both directions.
 * `expect` is answered by Node itself (100-continue) and undici refuses to send it.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/** Caller-supplied forwarding headers: only believed with --trust-proxy (as for the client IP). */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']);

/**
 * Compares header names the way CGI-style upstreams do: `X_Auth_Subject` and
 * `X-Auth-Subject` both become HTTP_X_AUTH_SUBJECT there, so a spoof written
 * with underscores must be removed too. Node already lower-cases names.
 */
const normalise = (name: string): string => {
  const lower = name.toLowerCase();
  // The regex is the costly part and nearly every name has no underscore.
  return lower.includes('_') ? lower.replace(/_/g, '-') : lower;
};
const IDENTITY = new Set<string>(IDENTITY_HEADERS);

const NONE: ReadonlySet<string> = new Set();

/** Names listed in a Connection header are hop-by-hop as well (RFC 9110 §7.6.1). */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  // Most requests carry no Connection header or only `keep-alive`/`close`, which name no header.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === '') return NONE;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** Text that headerValue leaves as it is (nearly every username and host). */
const PLAIN = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * Header values are ISO-8859-1 on the wire, and a username may be any Unicode
 * text: bytes outside printable ASCII, and `%` itself, are percent-encoded as
 * UTF-8, so `decodeURIComponent(value)` always gives the original back and a
 * plain ASCII name arrives unchanged. Also rules out CR/LF header injection.
 */
export function headerValue(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate: U+FFFD, as TextEncoder would do
    }
  });
}

/** The four X-Auth-* values of one verdict, in IDENTITY_HEADERS order. */
type Identity = readonly [string, string, string, string];

/**
 * The identity values depend on the claims only, and a cached verdict hands
 * the same claims object to every request within its few seconds: encoding
 * them once per verdict instead of once per request.
 */
const identities = new WeakMap<AccessTokenClaims, Identity>();

function identityOf(claims: AccessTokenClaims): Identity {
  let identity = identities.get(claims);
  if (!identity) {
    identity = [headerValue(claims.sub), headerValue(claims.uid), headerValue(claims.cid), headerValue(claims.scp.join(' '))];
    identities.set(claims, identity);
  }
  return identity;
}

export interface ForwardContext {
  claims: AccessTokenClaims;
  requestId: string;
  /** Address of the peer that connected to us. */
  peerAddress: string | undefined;
  /** Protocol and host as Fastify resolved them (honours --trust-proxy). */
  protocol: string;
  host: string;
  trustProxy: boolean;
}

/**
 * The headers sent upstream: the caller's, minus hop-by-hop headers, the
 * caller's Authorization (the upstream gets the checked identity instead of a
 * replayable credential) and any spoofed identity header; plus the X-Auth-*
 * identity, the request id for log correlation, and X-Forwarded-*.
 * `host` was already set to the upstream's by reply-from and is kept.
 */
export function upstreamRequestHeaders(incoming: HeaderMap, ctx: ForwardContext): HeaderMap {
  const listed = connectionTokens(incoming.connection);
  const out: HeaderMap = {};
  for (const name in incoming) {
    const key = normalise(name);
    if (HOP_BY_HOP.has(key) || listed.has(name) || IDENTITY.has(key) || key === 'authorization' || key === 'x-request-id') continue;
    if (!ctx.trustProxy && FORWARDING.has(key)) continue;
    out[name] = incoming[name];
  }
  const identity = identityOf(ctx.claims);
  out['x-auth-subject'] = identity[0];
  out['x-auth-user-id'] = identity[1];
  out['x-auth-client-id'] = identity[2];
  out['x-auth-scopes'] = identity[3];
  out['x-request-id'] = ctx.requestId;

  // Append the peer to a chain we trust; otherwise start a new chain with it.
  const previous = ctx.trustProxy ? incoming['x-forwarded-for'] : undefined;
  const chain = previous === undefined ? '' : Array.isArray(previous) ? previous.join(', ') : previous;
  const peer = ctx.peerAddress ?? '';
  if (chain || peer) out['x-forwarded-for'] = chain && peer ? `${chain}, ${peer}` : chain || peer;
  out['x-forwarded-proto'] = ctx.protocol;
  if (ctx.host) out['x-forwarded-host'] = headerValue(ctx.host);
  return out;
}

/** The upstream's response headers, minus hop-by-hop ones (ours to the client are our own). */
export function clientResponseHeaders(incoming: HeaderMap): HeaderMap {
  const listed = connectionTokens(incoming.connection);
  const out: HeaderMap = {};
  for (const name in incoming) {
    const key = name.toLowerCase();
    if (HOP_BY_HOP.has(key) || listed.has(key)) continue;
    out[name] = incoming[name];
  }
  return out;
}
