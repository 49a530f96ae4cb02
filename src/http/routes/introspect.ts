import type { FastifyInstance } from 'fastify';
import { issuerOf, type AppDeps } from '../context.js';
import { requireBearer } from '../guard.js';
import { errorSchema } from '../schemas.js';
import { readGrant } from './auth.js';

/** POST /oauth2/v1/introspect — RFC 7662, for callers holding rcauth:introspect or rcauth:admin. */
export function introspectRoute(app: FastifyInstance, deps: AppDeps): void {
  app.post('/oauth2/v1/introspect', {
    bodyLimit: 16 * 1024,
    schema: {
      summary: 'Introspect an access token (RFC 7662)', tags: ['oauth2'], consumes: ['application/x-www-form-urlencoded'],
      security: [{ bearer: [] }],
      response: { 200: { type: 'object', required: ['active'], additionalProperties: true, properties: { active: { type: 'boolean' } } }, '4xx': errorSchema, '5xx': errorSchema },
    },
  }, async (request, reply) => {
    await requireBearer(deps, request, ['rcauth:introspect', 'rcauth:admin']);
    const token = readGrant(request.body).required('token', 16 * 1024);
    return reply.header('cache-control', 'no-store').send(await deps.core.inspector.introspect(token, issuerOf(request, deps.config)));
  });
}
