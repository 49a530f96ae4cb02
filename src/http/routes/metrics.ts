import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';

/** What /metrics needs: the exposition text and its content type. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

/** GET /metrics on the main port — Prometheus text format (SPEC §10). */
export function metricsRoute(app: FastifyInstance, metrics: MetricsSource): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    return reply.type(metrics.contentType).send(await metrics.render());
  });
}

/**
 * `--metrics-port`: /metrics alone on its own port, so it can be kept off the
 * public listener (scraped from inside the network). A bare node:http server:
 * the cluster primary serves it too, and should not load the whole app for it.
 * Plain HTTP on purpose — the scraper's network is the operator's own.
 */
export async function startMetricsServer(opts: { host: string; port: number; source: MetricsSource; onError?: (err: unknown) => void }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","error_description":"Only /metrics is served on this port."}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' })
        .end('{"error":"invalid_request","error_description":"Use GET."}');
      return;
    }
    opts.source.render().then(
      (text) => res.writeHead(200, { 'content-type': opts.source.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => {
        opts.onError?.(err);
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error","error_description":"Metrics are unavailable."}');
      },
    );
  });
  // Same slow-client limits as the main listener would apply.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
