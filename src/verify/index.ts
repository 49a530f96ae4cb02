/**
 * `recoveryconnect-auth/verify` — checks the bearer tokens recoveryconnect-auth
 * issues, for the operator's API services. Loads `jose` and Node built-ins only.
 *
 * @example
 * import { createVerifier, fastifyAuth } from 'recoveryconnect-auth/verify';
 * const verifier = createVerifier({ issuer: 'https://auth.example', audience: 'api://default' });
 */
export { createVerifier } from './verifier.js';
export type { Verifier, VerifierOptions } from './verifier.js';
export { checkAccessToken, parseBearer, MAX_TOKEN_LENGTH } from './check.js';
export type { AccessTokenClaims, CheckOptions, KeyResolver, PinnedKey } from './check.js';
export { TokenError, wwwAuthenticate, errorResponse } from './errors.js';
export type { TokenErrorCode, TokenErrorOptions, ErrorResponse } from './errors.js';
export { createRemoteKeySource } from './jwks.js';
export type { RemoteKeySourceOptions } from './jwks.js';
export type { RevocationOptions } from './revocation.js';
export { requireScope, hasScope } from './scope.js';
export { expressVerifier } from './express.js';
export type { MiddlewareOptions, NodeStyleRequest, NodeStyleResponse } from './express.js';
export { fastifyAuth, fastifyVerifier } from './fastify.js';
