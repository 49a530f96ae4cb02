import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
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
  const identities = new WeakMap<FastifyRequest, AccessTokenClaims>();

  await app.register(async function rcauthGateway(scope) {
    // Proxied bodies are streamed, never parsed: a pass-through parser for every
    // content type (and none) hands the raw request on. A parser function
    // without `parseAs` is not subject to the app's 16 KiB bodyLimit, which
    // keeps guarding the token routes only.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', passThrough);

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
      identities.set(request, claims);
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
        const claims = identities.get(request);
        if (!claims) throw new TypeError('gateway: the request was not authenticated');
        return forward(request, reply, upstream.pathPrefix + pathOf(request.url), (headers) =>
          upstreamRequestHeaders(headers, {
            claims,
            requestId: request.id,
            peerAddress: request.raw.socket.remoteAddress,
            protocol: request.protocol,
            host: request.host,
            trustProxy: config.trustProxy,
          }),
        );
      },
    });
  });

  function forward(request: FastifyRequest, reply: FastifyReply, source: string, rewrite: (headers: HeaderMap) => HeaderMap): FastifyReply {
    try {
      return reply.from(source, {
        rewriteRequestHeaders: (_req, headers) => rewrite(headers as HeaderMap) as typeof headers,
        rewriteHeaders: (headers) => clientResponseHeaders(headers as HeaderMap) as typeof headers,
        onError: (failed, { error }) => {
          failed.send(upstreamFailure(error, config.upstreamTimeout));
        },
        // A proxy must not replay requests on its own (reply-from retries GETs on
        // 503 by default): the upstream's answer is passed on as it is.
        retryDelay: () => null,
      });
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
