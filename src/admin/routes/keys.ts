import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/context.js';
import { actorOf } from '../api.js';
import { adminRoute, keySchema } from '../schemas.js';
import { keyView } from '../views.js';

/** /admin/v1/keys — the signing keys, as `rcauth keys list|rotate`. */
export function keyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { keys, audit } = deps.core;

  app.get('/keys', {
    schema: adminRoute('Signing keys', {
      description: 'Newest first. This node\'s view; every node reloads the keys from the store within seconds (SPEC §5).',
      response: { 200: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: keySchema } } } },
    }),
  }, async () => ({ keys: keys.list().map(keyView) }));

  app.post('/keys/rotate', {
    schema: adminRoute('Rotate the signing key', {
      description: 'Makes a new active key; the old one stays in the JWKS until every token it signed has expired.',
      response: { 201: keySchema },
    }),
  }, async (request, reply) => {
    const by = actorOf(request);
    const key = await keys.rotate();
    await audit.record({ type: 'key_rotated', outcome: 'ok', actor: by.actor, requestId: by.requestId, clientIp: by.clientIp, detail: { kid: key.kid } });
    const listed = keys.list().find((k) => k.kid === key.kid);
    return reply.code(201).send(keyView(listed ?? { ...key, status: 'active' }));
  });
}
