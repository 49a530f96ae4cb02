import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '../../core/errors.js';
import { MAX_USERNAME_LENGTH } from '../../core/usernames.js';
import type { AppDeps } from '../../http/context.js';
import { adminRoute, auditEventSchema, closedObject, pageOf, pageQuery } from '../schemas.js';
import { auditView } from '../views.js';

interface AuditQuery { username?: string; type?: string; since?: string; until?: string; limit: number; offset: number }

/** An ISO 8601 time from the query string, as epoch ms. */
function timeParam(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidRequest(`"${name}" must be an ISO 8601 time, e.g. 2025-01-31T12:00:00Z.`);
  return ms;
}

/** GET /admin/v1/audit — security events, newest first, filtered and paged. */
export function auditRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Querystring: AuditQuery }>('/audit', {
    schema: adminRoute('Audit events', {
      description: 'Newest first. `since` is inclusive, `until` exclusive; `username` ignores case.',
      querystring: closedObject({
        username: { type: 'string', maxLength: MAX_USERNAME_LENGTH },
        type: { type: 'string', maxLength: 64, description: 'login, refresh_reuse, revoke, account_created, key_rotated, …' },
        since: { type: 'string', maxLength: 64, description: 'ISO 8601 time.' },
        until: { type: 'string', maxLength: 64, description: 'ISO 8601 time.' },
        ...pageQuery,
      }),
      response: { 200: pageOf('events', auditEventSchema) },
    }),
  }, async (request) => {
    const q = request.query;
    const since = timeParam('since', q.since);
    const until = timeParam('until', q.until);
    if (since !== undefined && until !== undefined && since >= until) throw new InvalidRequest('"since" must be before "until".');
    const rows = await deps.core.store.listAudit({
      username: q.username || undefined, type: q.type || undefined, since, until, limit: q.limit + 1, offset: q.offset,
    });
    return { events: rows.slice(0, q.limit).map(auditView), limit: q.limit, offset: q.offset, hasMore: rows.length > q.limit };
  });
}
