import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/context.js';
import { adminApi } from './api.js';
import { consoleRoutes } from './console.js';

/** The admin REST API (/admin/v1) and the web console (/admin) built on it (SPEC §11). */
export async function registerAdmin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => adminApi(scope, deps), { prefix: '/admin/v1' });
  consoleRoutes(app, deps);
}
