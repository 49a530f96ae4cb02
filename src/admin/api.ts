import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../core/accounts.js';
import { InvalidRequest } from '../core/errors.js';
import type { AppDeps } from '../http/context.js';
import { requireBearer } from '../http/guard.js';
import { useAdminJson } from './body.js';
import { accountRoutes } from './routes/accounts.js';
import { auditRoutes } from './routes/audit.js';
import { keyRoutes } from './routes/keys.js';
import { sessionRoutes } from './routes/sessions.js';
import { statsRoutes } from './routes/stats.js';

/** The scope an access token needs for anything under /admin/v1. */
export const ADMIN_SCOPE = 'rcauth:admin';

/** The acting admin of each request, set by the guard; a WeakMap keeps Fastify's types untouched. */
const actors = new WeakMap<FastifyRequest, Actor>();

/** Who acts, for the audit log (`actor` = the admin's username, the token's `sub`). */
export function actorOf(request: FastifyRequest): Actor {
  const actor = actors.get(request);
  // Every admin route runs behind the guard; reaching this is a wiring bug.
  if (!actor) throw new TypeError('admin route reached without the admin guard');
  return actor;
}

/**
 * The admin REST API, an encapsulated plugin (prefix /admin/v1): its own JSON
 * parser, the bearer guard before every handler, no caching of any answer.
 */
export async function adminApi(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  useAdminJson(scope);
  // Ajv's messages ("body/password must NOT have fewer than 1 characters") beat a
  // generic "malformed" for an operator; they name fields, never values.
  scope.setSchemaErrorFormatter((errors, dataVar) => {
    // An unknown member (see closedObject) is named, cut short: it is a key the caller chose, not a value.
    const unknown = errors.find((e) => typeof (e as { propertyName?: unknown }).propertyName === 'string') as { propertyName: string } | undefined;
    if (unknown) return new InvalidRequest(`${dataVar} has an unknown member "${unknown.propertyName.slice(0, 64)}".`);
    const first = errors[0];
    const where = first?.instancePath ? `${dataVar}${first.instancePath.replace(/\//g, '.')}` : dataVar;
    return new InvalidRequest(first ? `${where} ${first.message ?? 'is invalid'}.` : 'The request is malformed.');
  });
  // The guard runs in onRequest, before the body is read: an unauthenticated
  // caller cannot make the server parse (or validate) anything.
  scope.addHook('onRequest', async (request) => {
    const { claims } = await requireBearer(deps, request, [ADMIN_SCOPE]);
    actors.set(request, { actor: claims.sub, requestId: request.id, clientIp: request.ip });
  });
  scope.addHook('onSend', async (_request, reply) => {
    // Account data and generated passwords must not land in any cache.
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });

  accountRoutes(scope, deps);
  sessionRoutes(scope, deps);
  keyRoutes(scope, deps);
  auditRoutes(scope, deps);
  statsRoutes(scope, deps);
}
