import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest, UnsupportedGrantType } from '../../core/errors.js';
import { MAX_PASSWORD_BYTES } from '../../core/passwords.js';
import type { TokenResponse } from '../../core/sessions.js';
import { MAX_USERNAME_LENGTH } from '../../core/usernames.js';
import type { FormFields } from '../body.js';
import { noStore, requestContext, type AppDeps } from '../context.js';
import { errorSchema, tokenResponseSchema } from '../schemas.js';

const OTHER_METHODS = ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Reads the fields of a token request; the steps are named so a stack trace reads like the flow. */
export function readGrant(body: unknown): FormFields {
  if (!body || typeof (body as FormFields).optional !== 'function') throw new InvalidRequest('A request body is required.');
  return body as FormFields;
}

/** Dispatches a token request to its grant (RFC 6749 §4.3 password, §6 refresh). */
export async function dispatchGrant(deps: AppDeps, request: FastifyRequest, fields: FormFields): Promise<TokenResponse> {
  const grantType = fields.optional('grant_type', 64) ?? 'password';
  const clientId = fields.optional('client_id', 256);
  const ctx = requestContext(request, deps.config, clientId);
  switch (grantType) {
    case 'password': {
      const username = fields.required('username', MAX_USERNAME_LENGTH);
      const password = fields.required('password', MAX_PASSWORD_BYTES);
      if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new InvalidRequest('The field "password" is too long.');
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(username)) throw new InvalidRequest('The field "username" has control characters.');
      const scope = fields.optional('scope', 1024);
      return deps.core.sessions.passwordGrant(username, password, scope, ctx);
    }
    case 'refresh_token':
      return deps.core.sessions.refreshGrant(fields.required('refresh_token', 512), ctx);
    default:
      throw new UnsupportedGrantType(`The grant_type "${grantType.slice(0, 64)}" is not supported; use password or refresh_token.`);
  }
}

/**
 * Route config for the per-IP request limit (SPEC §6). The limit must sit on the
 * route itself: @fastify/rate-limit reads `config.rateLimit` in its own onRoute hook,
 * which runs before any hook added in a child scope, so a later hook setting it is
 * never seen (regression: test/security/throttle.test.ts, per-IP request limit).
 */
export function rateLimited(deps: AppDeps): { rateLimited: true; rateLimit?: { max: number; timeWindow: number } } {
  return deps.config.rateLimit > 0 ? { rateLimited: true, rateLimit: { max: deps.config.rateLimit, timeWindow: 60_000 } } : { rateLimited: true };
}

function methodNotAllowed(_request: FastifyRequest, reply: FastifyReply): never {
  reply.header('allow', 'POST');
  throw new InvalidRequest('Only POST is allowed here.', 405);
}

/** POST /api/{version}/auth — the documented authentication call (SPEC §3). */
export function authRoutes(app: FastifyInstance, deps: AppDeps): void {
  for (const version of deps.config.versions) {
    const url = `/api/${version}/auth`;
    app.route({
      method: 'POST',
      url,
      bodyLimit: 16 * 1024,
      schema: {
        summary: 'Log in (password) or refresh a token pair',
        description: 'JSON {"username","password"} or {"grant_type":"refresh_token","refresh_token"}; form bodies too.',
        tags: ['auth'],
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        response: { 200: tokenResponseSchema, '4xx': errorSchema, '5xx': errorSchema },
      },
      config: rateLimited(deps),
      handler: async (request, reply) => {
        const response = await dispatchGrant(deps, request, readGrant(request.body));
        return noStore(reply).type('application/json').send(response);
      },
    });
    app.route({ method: [...OTHER_METHODS], url, schema: { hide: true }, handler: methodNotAllowed });
  }
}

