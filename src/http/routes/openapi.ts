import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/** Collects every route schema; must be registered before the routes. */
export async function registerOpenapi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'recoveryconnect-auth', version: '0.1.0', description: 'Token service for the RecoveryConnect authentication contract.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
}

/** GET /openapi.json — OpenAPI 3.1 generated from the route schemas (never a hand-kept copy). */
export function openapiRoute(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
