// createVerifier end to end against a fake issuer on 127.0.0.1, including the
// optional revocation check through RFC 7662 introspection (SPEC §5).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TokenError, createVerifier } from '../../src/verify/index.js';
import { AUDIENCE, T0, claimsAt, expectTokenError, makeKey, manualClock, sign, startIssuer } from './fixtures.js';
import type { FakeIssuer, TestKey } from './fixtures.js';

describe('createVerifier', () => {
  let issuer: FakeIssuer;
  let key: TestKey;

  before(async () => {
    key = await makeKey('RS256');
    issuer = await startIssuer([key.jwk]);
  });
  after(() => issuer.close());
  beforeEach(() => {
    issuer.introspection.calls.length = 0;
    issuer.introspection.answer = () => ({ status: 200, body: { active: true } });
  });

  it('verifies a token and an Authorization header, discovering the JWKS', async () => {
    const clock = manualClock();
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now });
    const token = await sign(key, claimsAt(issuer.issuer));
    assert.equal((await verifier.verify(token)).sub, 'alice');
    assert.equal((await verifier.verifyAuthorization(`Bearer ${token}`)).uid, 'u_8c1f2a');
  });

  it('a missing header is invalid_token with missing: true (bare challenge)', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const err = await verifier.verifyAuthorization(undefined).catch((e: unknown) => e);
    assert.ok(err instanceof TokenError);
    assert.equal(err.code, 'invalid_token');
    assert.equal(err.missing, true);
    await assert.rejects(verifier.verifyAuthorization('Bearer  x'), expectTokenError('invalid_token', /malformed/));
  });

  it('defaults to 5 s of clock tolerance, configurable', async () => {
    const clock = manualClock(T0 + 3600 + 4);
    const token = await sign(key, claimsAt(issuer.issuer, T0));
    await createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now }).verify(token);
    const strict = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, clockTolerance: 0 });
    await assert.rejects(strict.verify(token), expectTokenError('invalid_token', 'token expired'));
  });

  it('checks the audience and issuer it was created with', async () => {
    const clock = manualClock();
    const verifier = createVerifier({ issuer: issuer.issuer, audience: 'api://orders', jwksUrl: issuer.jwksUrl, now: clock.now });
    await assert.rejects(verifier.verify(await sign(key, claimsAt(issuer.issuer))), expectTokenError('invalid_token', 'unexpected audience'));
  });

  it('accepts a key source of its own (how the server reuses the checker)', async () => {
    const clock = manualClock();
    const verifier = createVerifier({
      issuer: 'https://auth.internal',
      audience: AUDIENCE,
      keySource: async () => ({ key: key.publicKey, alg: 'RS256' }),
      now: clock.now,
    });
    assert.equal((await verifier.verify(await sign(key, claimsAt('https://auth.internal')))).sub, 'alice');
  });

  it('throws TypeError for bad options', () => {
    assert.throws(() => createVerifier({ issuer: '', audience: AUDIENCE }), TypeError);
    assert.throws(() => createVerifier({ issuer: issuer.issuer, audience: '' }), TypeError);
    assert.throws(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, clockTolerance: -5 }), TypeError);
    assert.throws(() => createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: { introspectionUrl: 'nope', token: 't' } }), TypeError);
  });

  describe('revocation (RFC 7662)', () => {
    const revocation = () => ({ introspectionUrl: issuer.introspectionUrl, token: 'introspector-token' });

    it('asks the introspection endpoint with the caller token and a form body', async () => {
      const clock = manualClock();
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: revocation(), now: clock.now });
      const token = await sign(key, claimsAt(issuer.issuer));
      await verifier.verify(token);
      assert.equal(issuer.introspection.calls.length, 1);
      const call = issuer.introspection.calls[0]!;
      assert.equal(call.token, token);
      assert.equal(call.authorization, 'Bearer introspector-token');
      assert.equal(call.contentType, 'application/x-www-form-urlencoded');
      assert.equal(call.hint, 'access_token');
    });

    it('refuses a revoked token (active: false)', async () => {
      const clock = manualClock();
      issuer.introspection.answer = () => ({ status: 200, body: { active: false } });
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: revocation(), now: clock.now });
      await assert.rejects(verifier.verify(await sign(key, claimsAt(issuer.issuer))), expectTokenError('invalid_token', 'token revoked'));
    });

    it('caches the answer per jti for cacheMs', async () => {
      const clock = manualClock();
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        revocation: { ...revocation(), cacheMs: 5000 },
        now: clock.now,
      });
      const token = await sign(key, claimsAt(issuer.issuer));
      const other = await sign(key, claimsAt(issuer.issuer));
      await verifier.verify(token);
      await verifier.verify(token);
      await verifier.verify(other);
      assert.equal(issuer.introspection.calls.length, 2, 'one call per jti');

      // Revoked meanwhile: still accepted from the cache until cacheMs has passed.
      issuer.introspection.answer = () => ({ status: 200, body: { active: false } });
      clock.advance(4999);
      await verifier.verify(token);
      assert.equal(issuer.introspection.calls.length, 2);
      clock.advance(1);
      await assert.rejects(verifier.verify(token), expectTokenError('invalid_token', 'token revoked'));
      assert.equal(issuer.introspection.calls.length, 3);
    });

    it('joins concurrent checks of one token into one call', async () => {
      const clock = manualClock();
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: revocation(), now: clock.now });
      const token = await sign(key, claimsAt(issuer.issuer));
      await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
      assert.equal(issuer.introspection.calls.length, 1);
    });

    it('does not call introspection for a token that fails the local checks', async () => {
      const clock = manualClock();
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: revocation(), now: clock.now });
      await assert.rejects(verifier.verify(await sign(key, claimsAt('https://evil.example'))), expectTokenError('invalid_token'));
      assert.equal(issuer.introspection.calls.length, 0);
    });

    it('fails closed with 503 when introspection errs, and does not cache the failure', async () => {
      const clock = manualClock();
      issuer.introspection.answer = () => ({ status: 500, body: { error: 'server_error' } });
      const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, revocation: revocation(), now: clock.now });
      const token = await sign(key, claimsAt(issuer.issuer));
      await assert.rejects(verifier.verify(token), expectTokenError('temporarily_unavailable'));
      issuer.introspection.answer = () => ({ status: 200, body: { nope: 1 } });
      await assert.rejects(verifier.verify(token), expectTokenError('temporarily_unavailable'));
      issuer.introspection.answer = () => ({ status: 200, body: { active: true } });
      await verifier.verify(token);
      assert.equal(issuer.introspection.calls.length, 3);
    });

    it('takes the caller token from a function (so it can be refreshed)', async () => {
      const clock = manualClock();
      let n = 0;
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        revocation: { introspectionUrl: issuer.introspectionUrl, token: async () => `fresh-${++n}`, cacheMs: 0 },
        now: clock.now,
      });
      const token = await sign(key, claimsAt(issuer.issuer));
      await verifier.verify(token);
      await verifier.verify(token);
      assert.deepEqual(issuer.introspection.calls.map((c) => c.authorization), ['Bearer fresh-1', 'Bearer fresh-2']);
    });
  });
});
