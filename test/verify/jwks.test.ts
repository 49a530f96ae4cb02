// The remote key source against a real JWKS served on 127.0.0.1: discovery
// (RFC 8414), caching, key rotation (SPEC §5), unknown-kid cooldown, key pinning
// (RFC 7517, RFC 8725 §3.1). Time is moved with an injected clock, never slept.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { exportSPKI } from 'jose';
import { TokenError, checkAccessToken, createRemoteKeySource } from '../../src/verify/index.js';
import { AUDIENCE, T0, claimsAt, expectTokenError, handBuilt, makeKey, manualClock, sign, startIssuer } from './fixtures.js';
import type { FakeIssuer, TestKey } from './fixtures.js';

describe('createRemoteKeySource', () => {
  let issuer: FakeIssuer;
  let a: TestKey;
  let b: TestKey;
  let ec: TestKey;

  before(async () => {
    [a, b, ec] = await Promise.all([makeKey('RS256'), makeKey('RS256'), makeKey('ES256')]);
    issuer = await startIssuer();
  });
  after(() => issuer.close());
  beforeEach(() => {
    issuer.keys = [a.jwk];
    issuer.hits.jwks = 0;
    issuer.hits.metadata = 0;
    issuer.jwksStatus = 200;
    issuer.jwksHeaders = { 'cache-control': 'public, max-age=300' };
  });

  it('discovers jwks_uri from the issuer metadata (RFC 8414) and pins the key to its alg', async () => {
    const keys = createRemoteKeySource({ issuer: issuer.issuer });
    const found = await keys({ kid: a.kid, alg: 'RS256' });
    assert.equal(found.alg, 'RS256');
    assert.deepEqual(issuer.hits, { metadata: 1, jwks: 1 });
    await keys({ kid: a.kid });
    assert.deepEqual(issuer.hits, { metadata: 1, jwks: 1 }, 'cached');
  });

  it('uses jwksUrl as given, without discovery', async () => {
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
    await keys({ kid: a.kid });
    assert.deepEqual(issuer.hits, { metadata: 0, jwks: 1 });
  });

  it('verifies a real token end to end', async () => {
    const keys = createRemoteKeySource({ issuer: issuer.issuer });
    const token = await sign(a, claimsAt(issuer.issuer, Math.floor(Date.now() / 1000)));
    const claims = await checkAccessToken(token, keys, { issuer: issuer.issuer, audience: AUDIENCE });
    assert.equal(claims.sub, 'alice');
  });

  it('refetches once for an unknown kid, picks up a rotated key, and respects the cooldown', async () => {
    const clock = manualClock();
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await keys({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 1);

    // The issuer rotates: key b is published and signs from now on.
    issuer.keys = [b.jwk, a.jwk];
    clock.advance(1000);
    assert.equal((await keys({ kid: b.kid })).alg, 'RS256');
    assert.equal(issuer.hits.jwks, 2, 'one refetch for the new kid');

    // A made-up kid inside the cooldown: refused without asking the issuer.
    clock.advance(1000);
    await assert.rejects(keys({ kid: 'made-up' }), expectTokenError('invalid_token', 'unknown key id'));
    assert.equal(issuer.hits.jwks, 2);

    // After the cooldown: exactly one more refetch, then refused again.
    clock.advance(30_000);
    await assert.rejects(keys({ kid: 'made-up' }), expectTokenError('invalid_token', 'unknown key id'));
    await assert.rejects(keys({ kid: 'made-up-2' }), expectTokenError('invalid_token', 'unknown key id'));
    assert.equal(issuer.hits.jwks, 3);
  });

  it('a key published after the cooldown began is picked up once the cooldown ends', async () => {
    const clock = manualClock();
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now, cooldownMs: 10_000 });
    await keys({ kid: a.kid });
    await assert.rejects(keys({ kid: b.kid }), expectTokenError('invalid_token', 'unknown key id')); // refetch, b not there yet
    issuer.keys = [a.jwk, b.jwk];
    await assert.rejects(keys({ kid: b.kid }), expectTokenError('invalid_token', 'unknown key id')); // in cooldown
    clock.advance(10_000);
    assert.equal((await keys({ kid: b.kid })).alg, 'RS256');
    assert.equal(issuer.hits.jwks, 3);
  });

  it('is single-flight: concurrent callers share one fetch, and one refetch for unknown kids', async () => {
    const clock = manualClock();
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await Promise.all(Array.from({ length: 20 }, () => keys({ kid: a.kid })));
    assert.equal(issuer.hits.jwks, 1);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => keys({ kid: `unknown-${i}` })));
    assert.ok(results.every((r) => r.status === 'rejected'));
    assert.equal(issuer.hits.jwks, 2);
  });

  it('honours Cache-Control max-age, bounded by cacheMaxAgeMs', async () => {
    const clock = manualClock();
    issuer.jwksHeaders = { 'cache-control': 'max-age=60' };
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await keys({ kid: a.kid });
    clock.advance(59_000);
    await keys({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 1);
    clock.advance(1_000);
    await keys({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 2, 'refetched at max-age');

    issuer.jwksHeaders = { 'cache-control': 'max-age=86400' };
    const capped = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now, cacheMaxAgeMs: 120_000 });
    await capped({ kid: a.kid });
    clock.advance(120_000);
    await capped({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 4, 'a long max-age is capped by cacheMaxAgeMs');
  });

  it('defaults to 10 minutes without Cache-Control, and never refetches more than once a second', async () => {
    const clock = manualClock();
    issuer.jwksHeaders = {};
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await keys({ kid: a.kid });
    clock.advance(599_000);
    await keys({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 1);
    clock.advance(1_000);
    await keys({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 2);

    issuer.jwksHeaders = { 'cache-control': 'no-store' };
    const noStore = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await noStore({ kid: a.kid });
    await noStore({ kid: a.kid });
    assert.equal(issuer.hits.jwks, 3);
  });

  it('drops a key the issuer removed once the cache expires', async () => {
    const clock = manualClock();
    issuer.keys = [a.jwk, b.jwk];
    const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
    await keys({ kid: a.kid });
    issuer.keys = [b.jwk];
    clock.advance(300_000);
    await assert.rejects(keys({ kid: a.kid }), expectTokenError('invalid_token', 'unknown key id'));
  });

  describe('key selection (RFC 7517 §4)', () => {
    it('pins keys without "alg" by key type: RSA → RS256, EC P-256 → ES256', async () => {
      const { alg: _a, ...rsaNoAlg } = a.jwk;
      const { alg: _e, ...ecNoAlg } = ec.jwk;
      issuer.keys = [rsaNoAlg, ecNoAlg];
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
      assert.equal((await keys({ kid: a.kid })).alg, 'RS256');
      assert.equal((await keys({ kid: ec.kid })).alg, 'ES256');
      // ... and the pin holds: a PS256 token under the RSA key is refused.
      const pss = handBuilt({ alg: 'PS256', kid: a.kid }, claimsAt(issuer.issuer), 'x');
      await assert.rejects(
        checkAccessToken(pss, keys, { issuer: issuer.issuer, audience: AUDIENCE, currentDate: new Date(T0 * 1000) }),
        expectTokenError('invalid_token', 'algorithm not allowed for this key'),
      );
    });

    it('ignores encryption keys, symmetric keys, private keys, unknown algorithms and kid-less keys', async () => {
      const bad = [
        { ...b.jwk, use: 'enc' },
        { ...ec.jwk, key_ops: ['encrypt'] },
        { kty: 'oct', kid: 'oct-key', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', alg: 'HS256' },
        { ...a.jwk, kid: 'hs-labelled', alg: 'HS256' },
        { ...a.jwk, kid: 'private', d: 'AQAB' },
        { ...a.jwk, kid: 'none-labelled', alg: 'none' },
        { ...a.jwk, kid: undefined },
        { ...a.jwk, kid: 'wrong-type', alg: 'ES256' },
        'not an object',
      ];
      issuer.keys = [...bad, a.jwk] as never;
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
      assert.equal((await keys({ kid: a.kid })).alg, 'RS256', 'the good key survives the bad ones');
      for (const kid of [b.kid, ec.kid, 'oct-key', 'hs-labelled', 'private', 'none-labelled', 'wrong-type']) {
        await assert.rejects(keys({ kid }), expectTokenError('invalid_token', 'unknown key id'), kid);
      }
    });

    it('drops every key of a duplicated kid (RFC 7517 §4.5)', async () => {
      issuer.keys = [a.jwk, { ...b.jwk, kid: a.kid }, ec.jwk];
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
      await assert.rejects(keys({ kid: a.kid }), expectTokenError('invalid_token', 'unknown key id'));
      assert.equal((await keys({ kid: ec.kid })).alg, 'ES256');
    });

    it('refuses a token without kid', async () => {
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
      await assert.rejects(keys({ alg: 'RS256' }), expectTokenError('invalid_token', 'token has no "kid"'));
      assert.equal(issuer.hits.jwks, 0);
    });
  });

  describe('attacks through the remote source', () => {
    it('HS256 signed with the published public key is refused', async () => {
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl });
      const forged = handBuilt({ alg: 'HS256', kid: a.kid }, claimsAt(issuer.issuer), await exportSPKI(a.publicKey));
      await assert.rejects(
        checkAccessToken(forged, keys, { issuer: issuer.issuer, audience: AUDIENCE, currentDate: new Date(T0 * 1000) }),
        expectTokenError('invalid_token', 'algorithm not allowed for this key'),
      );
    });

    it('jku pointing at the attacker is refused before any fetch', async () => {
      const keys = createRemoteKeySource({ issuer: issuer.issuer });
      const token = await sign(a, claimsAt(issuer.issuer), { jku: `${issuer.issuer}/evil-jwks` });
      await assert.rejects(
        checkAccessToken(token, keys, { issuer: issuer.issuer, audience: AUDIENCE, currentDate: new Date(T0 * 1000) }),
        expectTokenError('invalid_token', 'header parameter "jku" is not allowed'),
      );
      assert.deepEqual(issuer.hits, { metadata: 0, jwks: 0 });
    });
  });

  describe('failures', () => {
    it('answers 503 temporarily_unavailable when the issuer cannot be reached and no keys are cached', async () => {
      const gone = await startIssuer([a.jwk]);
      await gone.close();
      const keys = createRemoteKeySource({ issuer: gone.issuer, timeoutMs: 2000 });
      const err = await keys({ kid: a.kid }).catch((e: unknown) => e);
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'temporarily_unavailable');
      assert.equal(err.status, 503);
      assert.ok(err.cause, 'the network error travels in cause');
    });

    it('answers 503 when the JWKS endpoint fails, and retries at most once a second', async () => {
      const clock = manualClock();
      issuer.jwksStatus = 500;
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
      await assert.rejects(keys({ kid: a.kid }), expectTokenError('temporarily_unavailable'));
      await assert.rejects(keys({ kid: a.kid }), expectTokenError('temporarily_unavailable'));
      assert.equal(issuer.hits.jwks, 1);
      issuer.jwksStatus = 200;
      clock.advance(1000);
      assert.equal((await keys({ kid: a.kid })).alg, 'RS256');
    });

    it('keeps serving cached keys while the issuer is down, retrying after the cooldown', async () => {
      const clock = manualClock();
      const keys = createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, now: clock.now });
      await keys({ kid: a.kid });
      issuer.jwksStatus = 503;
      clock.advance(300_000);
      assert.equal((await keys({ kid: a.kid })).alg, 'RS256', 'stale key served');
      assert.equal((await keys({ kid: a.kid })).alg, 'RS256');
      assert.equal(issuer.hits.jwks, 2, 'no retry inside the cooldown');
      clock.advance(30_000);
      await keys({ kid: a.kid });
      assert.equal(issuer.hits.jwks, 3);
    });

    it('refuses metadata that names another issuer (RFC 8414 §3.3)', async () => {
      // The fake serves its metadata (issuer = its origin) under any well-known path.
      const keys = createRemoteKeySource({ issuer: `${issuer.issuer}/tenant` });
      const err = await keys({ kid: a.kid }).catch((e: unknown) => e);
      assert.ok(err instanceof TokenError && err.code === 'temporarily_unavailable');
      const reasons = (err.cause as AggregateError).errors.map((e: Error) => e.message);
      assert.ok(reasons.some((m) => /another issuer/.test(m)), reasons.join('; '));
      assert.equal(issuer.hits.metadata, 1, 'RFC 8414 §3.1 location asked first');
      assert.equal(issuer.hits.jwks, 0);
    });

    it('throws TypeError for bad options at creation', () => {
      assert.throws(() => createRemoteKeySource({ issuer: '' }), TypeError);
      assert.throws(() => createRemoteKeySource({ issuer: issuer.issuer, jwksUrl: 'not a url' }), TypeError);
      assert.throws(() => createRemoteKeySource({ issuer: issuer.issuer, cooldownMs: -1 }), TypeError);
    });
  });
});
