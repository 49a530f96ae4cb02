import type { FastifyInstance } from 'fastify';
import { requestContext, type AppDeps } from '../context.js';
import { errorSchema } from '../schemas.js';
import { rateLimited, readGrant } from './auth.js';

/** POST /oauth2/v1/revoke — RFC 7009: a refresh token ends its session; always 200. */
export function revokeRoute(app: FastifyInstance, deps: AppDeps): void {
  app.post('/oauth2/v1/revoke', {
    bodyLimit: 16 * 1024,
    schema: { summary: 'Revoke a refresh token (RFC 7009)', tags: ['oauth2'], consumes: ['application/x-www-form-urlencoded'], response: { '4xx': errorSchema, '5xx': errorSchema } },
    config: rateLimited(deps),
  }, async (request, reply) => {
    const fields = readGrant(request.body);
    const token = fields.required('token', 4096);
    const hint = fields.optional('token_type_hint', 64);
    // RFC 7009 §2.2: unknown tokens and access tokens (which expire by themselves) still answer 200.
    if (hint !== 'access_token') await deps.core.sessions.revokeRefreshToken(token, requestContext(request, deps.config));
    return reply.header('cache-control', 'no-store').send({});
  });
}
