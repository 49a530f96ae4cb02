import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../core/errors.js';
import type { AppDeps } from '../../http/context.js';
import { actorOf } from '../api.js';
import { adminRoute, noContent, sessionSchema, usernameParams } from '../schemas.js';
import { sessionView } from '../views.js';

/** /admin/v1/accounts/:username/sessions — the live refresh-token families of an account. */
export function sessionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { accounts, store, now } = deps.core;

  app.get<{ Params: { username: string } }>('/accounts/:username/sessions', {
    schema: adminRoute('Live sessions of an account', {
      description: 'One entry per password login whose refresh tokens still work, newest first.',
      params: usernameParams,
      response: { 200: { type: 'object', required: ['sessions'], properties: { sessions: { type: 'array', items: sessionSchema } } } },
    }),
  }, async (request) => {
    const account = await accounts.get(request.params.username);
    return { sessions: (await store.listFamilies(account.id, now())).map(sessionView) };
  });

  app.delete<{ Params: { username: string } }>('/accounts/:username/sessions', {
    schema: adminRoute('End every session of an account', {
      description: 'Its refresh tokens stop working and its earlier access tokens become inactive (SPEC §5).',
      params: usernameParams,
      response: { 200: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer', description: 'How many sessions were live.' } } } },
    }),
  }, async (request) => ({ revoked: await accounts.revokeSessions(request.params.username, actorOf(request)) }));

  app.delete<{ Params: { username: string; id: string } }>('/accounts/:username/sessions/:id', {
    schema: adminRoute('End one session', {
      description: 'Its refresh token stops working; access tokens already issued run out at their `exp`.',
      params: { ...usernameParams, required: ['username', 'id'], properties: { ...usernameParams.properties, id: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: noContent,
    }),
  }, async (request, reply) => {
    // Only sessions that GET lists can be ended: a second DELETE is 404, not a second audit event.
    const family = await store.findFamily(request.params.id);
    const at = now();
    if (!family || family.revokedAt !== null || family.expiresAt <= at || family.idleExpiresAt <= at) throw new NotFound('No such live session for this account.');
    await accounts.revokeSession(request.params.username, request.params.id, actorOf(request));
    return reply.code(204).send();
  });
}
