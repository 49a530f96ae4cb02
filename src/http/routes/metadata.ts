import type { FastifyInstance, FastifyRequest } from 'fastify';
import { issuerOf, type AppDeps } from '../context.js';

/** RFC 8414 authorization server metadata (also served as openid-configuration). */
export function metadataRoutes(app: FastifyInstance, deps: AppDeps): void {
  const document = (request: FastifyRequest) => {
    const issuer = issuerOf(request, deps.config);
    return {
      issuer,
      token_endpoint: `${issuer}/oauth2/v1/token`,
      revocation_endpoint: `${issuer}/oauth2/v1/revoke`,
      introspection_endpoint: `${issuer}/oauth2/v1/introspect`,
      jwks_uri: `${issuer}/oauth2/v1/keys`,
      grant_types_supported: ['password', 'refresh_token'],
      response_types_supported: ['token'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['bearer'],
      scopes_supported: ['openid', 'offline_access', 'profile', 'rcauth:introspect', 'rcauth:admin'],
      token_endpoint_auth_signing_alg_values_supported: [deps.config.signingAlg],
      id_token_signing_alg_values_supported: [deps.config.signingAlg],
      subject_types_supported: ['public'],
      claims_supported: ['ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'auth_time', 'sub'],
      service_documentation: `${issuer}/openapi.json`,
    };
  };
  const schema = { summary: 'Authorization server metadata (RFC 8414)', tags: ['discovery'] };
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(url, { schema }, async (request, reply) => reply.header('cache-control', 'public, max-age=300').send(document(request)));
  }
}
