import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/context.js';

/** The admin REST API (/admin/v1) and the web console (/admin). */
export async function registerAdmin(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
