import type { FastifyInstance } from 'fastify';
import { TemporarilyUnavailable } from '../../core/errors.js';
import type { AppDeps } from '../context.js';

/** /healthz: the process is up. /readyz: the store answers and a signing key is loaded. */
export function healthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', { schema: { summary: 'Liveness', tags: ['operations'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: 'Readiness', tags: ['operations'] } }, async () => {
    try {
      await deps.core.store.ping();
      deps.core.keys.active();
    } catch (err) {
      throw new TemporarilyUnavailable('Not ready: the store cannot be reached.', { cause: err });
    }
    return { status: 'ready' };
  });
}
