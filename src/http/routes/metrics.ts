import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';

/** GET /metrics — Prometheus text format (SPEC §10). */
export function metricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
