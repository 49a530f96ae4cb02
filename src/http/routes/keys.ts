import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../context.js';

/** GET /oauth2/v1/keys — RFC 7517 JWK Set: public keys only. */
export function keysRoute(app: FastifyInstance, deps: AppDeps): void {
  app.get('/oauth2/v1/keys', {
    schema: {
      summary: 'Signing keys (JWKS)', tags: ['discovery'],
      response: { 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } } } },
    },
  }, async (_request, reply) => {
    // Short enough that verifiers see a rotation soon; they also refetch on an unknown kid.
    return reply.header('cache-control', 'public, max-age=300').send(deps.core.keys.jwks());
  });
}
