import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { SlowDown } from '../core/errors.js';
import type { Core } from '../core/index.js';
import { parseFormFields, parseJsonFields } from './body.js';
import type { AppDeps } from './context.js';
import { toWire } from './errors.js';
import { Metrics } from './metrics.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { introspectRoute } from './routes/introspect.js';
import { keysRoute } from './routes/keys.js';
import { metadataRoutes } from './routes/metadata.js';
import { metricsRoute } from './routes/metrics.js';
import { openapiRoute, registerOpenapi } from './routes/openapi.js';
import { revokeRoute } from './routes/revoke.js';
import { tokenRoute } from './routes/token.js';

/** Header names whose values never reach a log (SPEC §10). */
export const REDACTED_HEADERS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key'];

export interface AppOptions {
  core: Core;
  config: Config;
  metrics?: Metrics;
  /** A pino logger instance, or false for none (tests). */
  logger?: FastifyServerOptions['loggerInstance'] | false;
  https?: { cert: Buffer; key: Buffer } | null;
  /** Extra plugins (gateway, admin) registered after the own routes. */
  extend?: (app: FastifyInstance, deps: AppDeps) => Promise<void> | void;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Set by a route whose request line is routine: the line is then written at
     * debug rather than info. The gateway sets it for answers passed on from the
     * upstream, which logs them itself under the same X-Request-Id; at info the
     * line cost the gateway about 13 µs of CPU per proxied request (pino's
     * redaction and write), close to a fifth of the whole.
     */
    routineRequestLine: boolean;
  }
}

/** Assembles the Fastify app: parsers, hooks, the one error handler, every route. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { core, config } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const deps: AppDeps = { core, config, metrics };
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Node checks header/request timeouts every connectionsCheckingInterval (30 s by default),
    // which would let a slowloris client hold a socket far past --header-timeout.
    ...(opts.https ? { https: { ...opts.https, connectionsCheckingInterval: 1000 } } : { http: { connectionsCheckingInterval: 1000 } }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    bodyLimit: 16 * 1024,
    requestTimeout: config.requestTimeout * 1000,
    connectionTimeout: config.requestTimeout * 1000,
    keepAliveTimeout: 5000,
    return503OnClosing: true,
    // Room for a 256-character username percent-encoded in an admin URL.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 3100 },
    // Fastify's own request lines log the raw URL (a query could carry a token); ours below do not.
    logController: new LogController({ disableRequestLogging: true }),
    // Errors of Node's HTTP parser (bad request line, oversized headers, timeouts) never reach
    // a route; they still get the documented body shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || !socket.writable) return;
      const [status, reason, text] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'The request took too long to arrive.']
          : [400, 'Bad Request', 'The request is malformed.'];
      const body = JSON.stringify({ error: 'invalid_request', error_description: text });
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
    // Errors raised by the router before any route (a badly encoded URL) get our wire body too.
    frameworkErrors: (err, request, reply: FastifyReply) => {
      const wire = toWire(err, request.id);
      return reply.code(wire.status).headers(wire.headers).type('application/json').send(wire.body);
    },
  });
  // Slowloris: the whole header block must arrive within the header timeout.
  app.server.headersTimeout = config.headerTimeout * 1000;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try { done(null, parseJsonFields(body as Buffer)); } catch (err) { done(err as Error); }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    try { done(null, parseFormFields(body as Buffer)); } catch (err) { done(err as Error); }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (opts.https) reply.header('strict-transport-security', 'max-age=31536000');
  });
  app.decorateReply('routineRequestLine', false);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.latency.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    const line = { req: { method: request.method, route, ip: request.ip }, res: { statusCode: reply.statusCode }, ms: Math.round(reply.elapsedTime) };
    if (reply.routineRequestLine) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });

  app.setErrorHandler((err, request, reply) => {
    const wire = toWire(err, request.id);
    if (wire.unexpected) request.log.error({ err: wire.unexpected }, 'unexpected error');
    if (wire.status === 503) {
      metrics.storeErrors.inc();
      request.log.warn({ err: (err as Error).cause ?? err }, 'store unavailable');
    }
    return reply.code(wire.status).headers(wire.headers).header('cache-control', 'no-store').header('pragma', 'no-cache').type('application/json').send(wire.body);
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).type('application/json').send({ error: 'not_found', error_description: `No route ${request.method} ${request.url.split('?')[0]}.` });
  });

  if (config.corsOrigins.length > 0) {
    const cors = (await import('@fastify/cors')).default;
    await app.register(cors, { origin: [...config.corsOrigins], methods: ['GET', 'POST'], allowedHeaders: ['content-type', 'authorization'], maxAge: 600 });
  }
  if (config.rateLimit > 0) {
    const rateLimit = (await import('@fastify/rate-limit')).default;
    await app.register(rateLimit, {
      global: false,
      max: config.rateLimit,
      timeWindow: 60_000,
      errorResponseBuilder: (_req, ctx) => {
        metrics.throttled.inc({ reason: 'rate' });
        return new SlowDown(Math.ceil(ctx.ttl / 1000), 'Too many requests from this address; slow down.');
      },
    });
  }
  await registerOpenapi(app);

  await app.register(async (scope) => {
    authRoutes(scope, deps);
    tokenRoute(scope, deps);
    revokeRoute(scope, deps);
    introspectRoute(scope, deps);
  });
  keysRoute(app, deps);
  metadataRoutes(app, deps);
  healthRoutes(app, deps);
  if (!config.metricsPort) metricsRoute(app, metrics);
  openapiRoute(app);
  if (opts.extend) await opts.extend(app, deps);
  return app;
}
