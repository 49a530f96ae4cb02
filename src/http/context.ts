import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Core } from '../core/index.js';
import type { RequestContext } from '../core/sessions.js';
import type { Metrics } from './metrics.js';

/** What every route gets: the core, the frozen config, and the metrics. */
export interface AppDeps {
  core: Core;
  config: Config;
  metrics: Metrics;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The issuer: the configured one, or the origin the server is reached at
 * (SPEC §3 default). A Host header that is not a plain host[:port] is ignored.
 */
export function issuerOf(request: FastifyRequest, config: Config): string {
  if (config.issuer) return config.issuer.replace(/\/$/, '');
  const host = request.headers.host;
  return `${request.protocol}://${host && HOST.test(host) ? host : listenAddress(request, config)}`;
}

const listenAddresses = new WeakMap<object, string>();

/** host:port the server listens on; asked of the socket once, not per request (a syscall). */
function listenAddress(request: FastifyRequest, config: Config): string {
  let address = listenAddresses.get(request.server);
  if (!address) {
    address = `${config.host}:${(request.server.server.address() as { port?: number } | null)?.port ?? config.port}`;
    listenAddresses.set(request.server, address);
  }
  return address;
}

export function requestContext(request: FastifyRequest, config: Config, clientId?: string): RequestContext {
  const ua = request.headers['user-agent'];
  return {
    issuer: issuerOf(request, config),
    clientIp: request.ip,
    userAgent: typeof ua === 'string' ? ua : null,
    requestId: request.id,
    clientId,
  };
}

/** RFC 6749 §5.1: token responses must not be cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
