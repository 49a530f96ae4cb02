import replyFrom, { type FastifyReplyFromHooks } from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Readable } from 'node:stream';
import { ConfigError } from '../config/load.js';
import { InvalidRequest, NotFound } from '../core/errors.js';
import type { AppDeps } from '../http/context.js';
import { requireBearer } from '../http/guard.js';
import type { AccessTokenClaims } from '../verify/check.js';
import { upstreamFailure } from './errors.js';
import { clientResponseHeaders, upstreamRequestHeaders, type HeaderMap } from './headers.js';
import { serverPathMatcher } from './server-paths.js';
import { CachedTokenInspector } from './token-cache.js';

export { BadGateway, GatewayTimeout } from './errors.js';
export { TOKEN_CACHE_TTL_MS } from './token-cache.js';

/**
 * Upstream answers up to this size, announced by Content-Length, are read whole
 * and sent as one buffer: that costs the gateway about 5 µs less per request
 * than piping the stream (listeners and bookkeeping on both sides), and such a
 * body nearly always arrives with the headers anyway. Larger or unsized bodies
 * are streamed.
 */
const WHOLE_RESPONSE_MAX_BYTES = 16 * 1024;

/** The reply as reply-from's callbacks see it. */
type ProxyReply = Parameters<NonNullable<FastifyReplyFromHooks['onError']>>[0];

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's claims, set by the gateway's check before its handler runs. */
    gatewayClaims: AccessTokenClaims | null;
  }
}

/**
 * Gateway mode (SPEC §9): every request that is not one of the server's own
 * routes needs a live bearer token and is then streamed to the upstream with
 * the caller's identity in X-Auth-* headers. Registered after the own routes,
 * as one encapsulated plugin, so its body handling and hooks touch nothing else.
 */
export async function registerGateway(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps;
  const upstream = parseUpstream(config.upstream);
  const timeoutMs = config.upstreamTimeout * 1000;
  // A little longer than the upstream's allowance, so our 504 is written before the socket goes.
  const idleMs = timeoutMs + 1000;
  const isServerPath = serverPathMatcher(config);
  // The same checks as introspection, with verdicts remembered for a few seconds.
  const inspector = new CachedTokenInspector(deps.core);
  const fail = (reply: ProxyReply, err: unknown) => reply.send(upstreamFailure(err, config.upstreamTimeout));

  // One options object shared by every reply.from call (its callbacks get the
  // request or reply as arguments), rather than fresh closures per request.
  const fromOptions: FastifyReplyFromHooks = {
    rewriteRequestHeaders: (request, headers) => {
      const claims = request.gatewayClaims;
      if (!claims) throw new TypeError('gateway: the request was not authenticated');
      return upstreamRequestHeaders(headers as HeaderMap, {
        claims,
        requestId: request.id,
        peerAddress: request.raw.socket.remoteAddress,
        protocol: request.protocol,
        host: request.host,
        trustProxy: config.trustProxy,
      }) as typeof headers;
    },
    rewriteHeaders: (headers) => clientResponseHeaders(headers as HeaderMap) as typeof headers,
    onResponse: (request, reply, res) => passOn(request.method, reply, res.stream, fail),
    onError: (reply, { error }) => fail(reply, error),
    // A proxy must not replay requests on its own (reply-from retries GETs on
    // 503 by default): the upstream's answer is passed on as it is.
    retryDelay: () => null,
  };

  await app.register(async function rcauthGateway(scope) {
    // Proxied bodies are streamed, never parsed: a pass-through parser for every
    // content type (and none) hands the raw request on. A parser function
    // without `parseAs` is not subject to the app's 16 KiB bodyLimit, which
    // keeps guarding the token routes only.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', passThrough);
    // A declared request property: cheaper than a WeakMap keyed by requests.
    scope.decorateRequest('gatewayClaims', null);

    await scope.register(replyFrom, {
      base: upstream.origin,
      // reply-from's own request lines would log the path; the app logs its own, without it.
      disableRequestLogging: true,
      undici: {
        headersTimeout: timeoutMs,
        // Idle time between body chunks, not a total: long streams are fine.
        bodyTimeout: timeoutMs,
        connectTimeout: timeoutMs,
        // reply-from turns TLS verification off by default (its `tls` option);
        // undici applies `connect` last, so an https upstream's certificate is checked.
        connect: { rejectUnauthorized: true },
      },
    });

    // Authentication happens before the body is touched, so an anonymous caller
    // never gets to stream anything upstream (nor learn about content types).
    scope.addHook('onRequest', async function authenticate(request) {
      const path = pathOf(request.url);
      if (isServerPath(path)) throw new NotFound(`No route ${request.method} ${path}.`);
      const { claims } = await requireBearer(deps, request, [], inspector);
      request.gatewayClaims = claims;
      // The app's socket idle timeout is --request-timeout; left as is, it would
      // cut the client off while a slow upstream is still within
      // --upstream-timeout, and the promised 504 would never be sent. Node resets
      // it for the next request on a kept-alive socket, so this is per request.
      const socket = request.raw.socket;
      if (socket.timeout !== undefined && socket.timeout > 0 && socket.timeout < idleMs) socket.setTimeout(idleMs);
    });

    scope.route({
      method: proxiedMethods(app),
      url: '/*',
      schema: { hide: true },
      handler: function proxy(request: FastifyRequest, reply: FastifyReply) {
        return forward(request, reply, upstream.pathPrefix + pathOf(request.url));
      },
    });
  });

  function forward(request: FastifyRequest, reply: FastifyReply, source: string): FastifyReply {
    try {
      return reply.from(source, fromOptions);
    } catch (err) {
      // reply-from refuses dot-segments and undecodable paths synchronously.
      if (err instanceof URIError || (err as { statusCode?: number }).statusCode === 400) {
        throw new InvalidRequest('The request path is malformed.', 400, { cause: err });
      }
      request.log.error({ err }, 'gateway: request not forwarded');
      throw err;
    }
  }
}

/**
 * Sends the upstream's answer (status and headers are already on the reply).
 * The upstream has answered, so the request line is routine: the upstream logs
 * the request itself, under our X-Request-Id, and the gateway's own refusals and
 * 502/504 keep their line at info.
 */
function passOn(method: string, reply: ProxyReply, body: Readable, fail: (reply: ProxyReply, err: unknown) => void): void {
  reply.routineRequestLine = true;
  const status = reply.statusCode;
  const length = Number(reply.getHeader('content-length'));
  // HEAD, 204 and 304 answers have no body, and their Content-Length must pass unchanged.
  if (!(length <= WHOLE_RESPONSE_MAX_BYTES) || method === 'HEAD' || status === 204 || status === 304 || status < 200) {
    reply.send(body);
    return;
  }
  const client = reply.raw;
  const chunks: Buffer[] = [];
  // A client that leaves stops the read, which frees the upstream connection.
  const abandon = () => body.destroy();
  client.once('close', abandon);
  body.on('data', (chunk: Buffer) => chunks.push(chunk));
  body.once('end', () => {
    client.removeListener('close', abandon);
    if (!reply.sent) reply.send(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
  // Nothing has been sent yet, so a reset or stall mid-body still gets a proper 502/504.
  body.once('error', (err) => {
    client.removeListener('close', abandon);
    if (client.destroyed || reply.sent) return;
    reply.log.warn({ err }, 'upstream answer failed');
    fail(reply, err);
  });
}

/** Hands the unread request stream to reply-from, which pipes it upstream. */
function passThrough(_request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void): void {
  done(null, payload);
}

/** The path part of a request target; an absolute-form target (`GET http://x/`) is not proxied. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (!path.startsWith('/')) throw new InvalidRequest('The request target must be a path.');
  return path;
}

/**
 * Every method Fastify routes, except OPTIONS when @fastify/cors (--cors-origins)
 * answers preflights on `*` itself — a second OPTIONS catch-all would clash.
 */
function proxiedMethods(app: FastifyInstance): HTTPMethods[] {
  const corsOwnsOptions = app.hasRoute({ method: 'OPTIONS', url: '*' }) || app.hasRoute({ method: 'OPTIONS', url: '/*' });
  return app.supportedMethods.filter((m) => !(m === 'OPTIONS' && corsOwnsOptions)) as HTTPMethods[];
}

/**
 * The upstream is an origin plus an optional base path (`http://api:9000/v2`);
 * credentials, a query or a fragment in it would be silently dropped, so they
 * are a configuration error (exit 2) instead.
 */
function parseUpstream(text: string): { origin: string; pathPrefix: string } {
  const url = new URL(text);
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError('--upstream (RCAUTH_UPSTREAM): must be scheme://host[:port][/path], without credentials, query or fragment');
  }
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}
