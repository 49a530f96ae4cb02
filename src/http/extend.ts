import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './context.js';

/**
 * Optional parts registered after the server's own routes: the admin API and
 * console (src/admin), then the gateway (src/gateway) when --upstream is set, so
 * every route that is not the server's own goes upstream.
 */
export async function extendApp(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { registerAdmin } = await import('../admin/index.js');
  await registerAdmin(app, deps);
  if (deps.config.upstream) {
    const { registerGateway } = await import('../gateway/index.js');
    await registerGateway(app, deps);
  }
}
