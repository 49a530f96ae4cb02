import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createVerifier, TokenError } from '../../src/verify/index.js';
import { addUser, login, startServer, type ServerHandle } from '../helpers/server.js';

function kidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
}

describe('verify SDK against the real server', () => {
  let server: ServerHandle;
  let password: string;
  before(async () => {
    server = await startServer();
    password = await addUser(server, 'vera');
    await addUser(server, 'introspector', 'introspector-password-1', 'rcauth:introspect');
  });
  after(() => server.stop());

  it('discovers the JWKS from the issuer and keeps verifying across a key rotation', async () => {
    const verifier = createVerifier({ issuer: server.url, audience: 'api://default' });
    const before = await login(server.url, 'vera', password);
    const claims = await verifier.verify(before.access_token);
    assert.equal(claims.sub, 'vera');

    const rotated = await server.cli(['keys', 'rotate', '--json']);
    const { kid } = JSON.parse(rotated.stdout) as { kid: string };
    let after = before;
    const deadline = Date.now() + 10_000;
    while (kidOf(after.access_token) !== kid && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      after = await login(server.url, 'vera', password);
    }
    assert.equal(kidOf(after.access_token), kid, 'the server signs with the new key');
    // The verifier has the old key cached; an unknown kid makes it refetch once.
    assert.equal((await verifier.verify(after.access_token)).sub, 'vera');
    assert.equal((await verifier.verify(before.access_token)).sub, 'vera', 'tokens of the retired key still verify');
  });

  it('refuses a revoked token when revocation checking is on', async () => {
    const introspector = await login(server.url, 'introspector', 'introspector-password-1');
    const verifier = createVerifier({
      issuer: server.url, audience: 'api://default',
      revocation: { introspectionUrl: `${server.url}/oauth2/v1/introspect`, token: introspector.access_token, cacheMs: 0 },
    });
    const t = await login(server.url, 'vera', password);
    assert.equal((await verifier.verify(t.access_token)).sub, 'vera');
    assert.equal((await server.cli(['user', 'revoke', 'vera'])).code, 0);
    await assert.rejects(verifier.verify(t.access_token), (err: unknown) => err instanceof TokenError && err.code === 'invalid_token');
    const plain = createVerifier({ issuer: server.url, audience: 'api://default' });
    assert.equal((await plain.verify(t.access_token)).sub, 'vera', 'without the option only signature and claims are checked');
  });

  it('refuses a token for another audience', async () => {
    const verifier = createVerifier({ issuer: server.url, audience: 'api://other' });
    const t = await login(server.url, 'vera', password);
    await assert.rejects(verifier.verify(t.access_token), (err: unknown) => err instanceof TokenError && err.code === 'invalid_token');
  });
});
