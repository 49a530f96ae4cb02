import type { FastifyInstance } from 'fastify';
import { InvalidGrant } from '../../core/errors.js';
import { noStore, type AppDeps } from '../context.js';
import { errorSchema, tokenResponseSchema } from '../schemas.js';
import { dispatchGrant, rateLimited, readGrant } from './auth.js';

/** POST /oauth2/v1/token — RFC 6749 §3.2 token endpoint (form body; §5.2 errors). */
export function tokenRoute(app: FastifyInstance, deps: AppDeps): void {
  app.post('/oauth2/v1/token', {
    bodyLimit: 16 * 1024,
    schema: {
      summary: 'RFC 6749 token endpoint (password and refresh_token grants)', tags: ['oauth2'],
      consumes: ['application/x-www-form-urlencoded'],
      response: { 200: tokenResponseSchema, '4xx': errorSchema, '5xx': errorSchema },
    },
    config: rateLimited(deps),
  }, async (request, reply) => {
    try {
      const response = await dispatchGrant(deps, request, readGrant(request.body));
      return noStore(reply).send(response);
    } catch (err) {
      // RFC 6749 §5.2: invalid_grant is a 400 on the standard endpoint.
      if (err instanceof InvalidGrant) throw new InvalidGrant(err.message, { status: 400, cause: err.cause });
      throw err;
    }
  });
}
