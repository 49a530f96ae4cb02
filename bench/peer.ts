/**
 * The peer: node-oidc-provider (npm `oidc-provider`) set up to do what our
 * server does, so the same load can be pointed at both:
 *
 * - one public client `bench` allowed the password and refresh_token grants;
 * - RS256 JWT access tokens for the resource `api://default` (resource
 *   indicators with accessTokenFormat 'jwt'), refresh tokens rotated on use;
 * - a small password grant (registerGrantType) that checks an argon2id hash
 *   with the server's parameters, like our login;
 * - its default in-memory adapter (nothing on disk, unlike our store).
 *
 * Prints {"port":N} once it listens. Input: '{"users":[{"username","password"}],"memoryCost":19456,"timeCost":2}'
 */
import { hash, verify } from '@node-rs/argon2';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Ctx } from 'oidc-provider';

const ARGON2ID = 2;
const RESOURCE = 'api://default';
// No `openid`: an ID token would be a second signature per refresh, which our server does not make.
const SCOPE = 'offline_access profile';

interface PeerInput {
  users: { username: string; password: string }[];
  memoryCost?: number;
  timeCost?: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as PeerInput;
  const params = { algorithm: ARGON2ID, memoryCost: input.memoryCost ?? 19456, timeCost: input.timeCost ?? 2, parallelism: 1 };
  // Hash every account's password up front, as a store would hold it.
  const accounts = new Map<string, string>();
  for (const u of input.users) accounts.set(u.username, await hash(u.password, params));
  const dummy = await hash('dummy-password-for-unknown-users', params);

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' };

  const resourceServer = {
    scope: SCOPE,
    audience: RESOURCE,
    accessTokenTTL: 3600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };

  // The port is known only after listen; the issuer only matters for token contents.
  const provider = new Provider('http://127.0.0.1', {
    clients: [{
      client_id: 'bench',
      token_endpoint_auth_method: 'none',
      grant_types: ['password', 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    }],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'offline_access', 'profile'],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => resourceServer,
      },
    },
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600 },
  });

  provider.registerGrantType('password', async (ctx: Ctx) => {
    const { username, password } = ctx.oidc.params;
    if (!username || !password) throw new errors.InvalidRequest('username and password are required');
    const stored = accounts.get(username);
    // Like ours: an unknown user costs a verify too.
    const ok = await verify(stored ?? dummy, password).catch(() => false);
    if (!stored || !ok) throw new errors.InvalidGrant('invalid credentials');

    const { Grant, AccessToken, RefreshToken, ResourceServer } = ctx.oidc.provider;
    const client = ctx.oidc.client;
    const grant = new Grant({ accountId: username, clientId: client.clientId });
    grant.addOIDCScope(SCOPE);
    grant.addResourceScope(RESOURCE, SCOPE);
    const grantId = await grant.save();

    const authTime = Math.floor(Date.now() / 1000);
    const at = new AccessToken({ accountId: username, client, grantId, gty: 'password', scope: SCOPE });
    at.resourceServer = new ResourceServer(RESOURCE, resourceServer);
    const accessToken = await at.save();
    const rt = new RefreshToken({ accountId: username, client, grantId, gty: 'password', scope: SCOPE, resource: RESOURCE, authTime });
    const refreshToken = await rt.save();

    ctx.body = { access_token: accessToken, expires_in: at.expiration, token_type: 'Bearer', refresh_token: refreshToken, scope: SCOPE };
  }, ['username', 'password', 'scope']);

  provider.on('server_error', (_ctx: unknown, err: unknown) => process.stderr.write(`peer server_error: ${String((err as Error)?.stack ?? err)}\n`));

  const server = provider.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
  });
  server.keepAliveTimeout = 30_000;
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err: Error) => {
  process.stderr.write(`peer: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
