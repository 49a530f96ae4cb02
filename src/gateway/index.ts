import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../http/context.js';

/** Gateway mode (SPEC §9): check the bearer token, then proxy to the upstream. */
export async function registerGateway(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
