/**
 * Fastify adapters. Only Fastify's *types* are imported (erased at build time), so
 * loading the verify SDK never loads Fastify.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from './check.js';
import { TokenError, errorResponse } from './errors.js';
import type { MiddlewareOptions } from './express.js';
import { requireScope } from './scope.js';
import type { Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified access token (set by `fastifyAuth` / `fastifyVerifier`). */
    auth?: AccessTokenClaims;
  }
}

/**
 * A Fastify `preHandler` that sets `request.auth` or answers 401/403/503 with
 * `{error, error_description}` and the RFC 6750 §3 challenge.
 *
 * @example
 * app.get('/orders', { preHandler: fastifyAuth(verifier, { scope: 'orders:read' }) }, async (request) => request.auth);
 */
export function fastifyAuth(verifier: Pick<Verifier, 'verifyAuthorization'>, options: MiddlewareOptions = {}) {
  return async function rcauthVerify(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    try {
      const claims = await verifier.verifyAuthorization(request.headers.authorization);
      if (options.scope !== undefined) requireScope(claims, options.scope);
      request.auth = claims;
      return undefined;
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      const { status, headers, body } = errorResponse(err, options.realm);
      // Fastify: an async hook that answers early returns the reply.
      return reply.code(status).headers(headers).send(body);
    }
  };
}

/**
 * A Fastify plugin that protects every route of the context it is registered in
 * (it skips encapsulation, like `fastify-plugin`): register it inside the scope of
 * the routes to protect.
 *
 * @example
 * app.register(async (api) => {
 *   api.register(fastifyVerifier(verifier));
 *   api.get('/me', async (request) => ({ sub: request.auth?.sub }));
 * });
 */
export function fastifyVerifier(verifier: Pick<Verifier, 'verifyAuthorization'>, options: MiddlewareOptions = {}): FastifyPluginAsync {
  const preHandler = fastifyAuth(verifier, options);
  const plugin: FastifyPluginAsync = async function rcauthVerifyPlugin(instance) {
    if (!instance.hasRequestDecorator('auth')) instance.decorateRequest('auth', undefined);
    instance.addHook('preHandler', preHandler);
  };
  // What `fastify-plugin` would set, without depending on it: run in the
  // registering context (skip-override), declare name and supported Fastify
  // version (plugin-meta, checked at registration), name it in errors.
  const name = 'recoveryconnect-auth/verify';
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: name,
    [Symbol.for('plugin-meta')]: { name, fastify: '5.x' },
  });
}
