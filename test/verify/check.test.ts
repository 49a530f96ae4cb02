// The checker's policy (SPEC §3, §6 "Tokens"; RFC 8725): one rule per test, each
// asserting the error code and the rule it names.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { SignJWT, exportSPKI } from 'jose';
import { TokenError, checkAccessToken } from '../../src/verify/index.js';
import type { CheckOptions, KeyResolver } from '../../src/verify/index.js';
import { AUDIENCE, T0, claimsAt, expectTokenError, handBuilt, makeKey, sign, staticKeys } from './fixtures.js';
import type { TestKey } from './fixtures.js';

const ISSUER = 'https://auth.example';
const at = (seconds: number): Date => new Date(seconds * 1000);
const opts = (extra: Partial<CheckOptions> = {}): CheckOptions => ({ issuer: ISSUER, audience: AUDIENCE, currentDate: at(T0 + 60), ...extra });

describe('checkAccessToken', () => {
  let rsa: TestKey;
  let ec: TestKey;
  let keys: KeyResolver;

  before(async () => {
    rsa = await makeKey('RS256');
    ec = await makeKey('ES256');
    keys = staticKeys(rsa, ec);
  });

  describe('accepts', () => {
    it('a valid RS256 token and returns its claims', async () => {
      const claims = claimsAt(ISSUER);
      const result = await checkAccessToken(await sign(rsa, claims), keys, opts());
      assert.deepEqual(result, claims);
      assert.equal(result.sub, 'alice');
      assert.deepEqual(result.scp, ['openid', 'offline_access', 'profile']);
    });

    it('a valid ES256 token', async () => {
      const result = await checkAccessToken(await sign(ec, claimsAt(ISSUER)), keys, opts());
      assert.equal(result.uid, 'u_8c1f2a');
    });

    for (const typ of ['JWT', 'at+jwt', 'application/at+jwt', 'AT+JWT']) {
      it(`typ "${typ}"`, async () => {
        const token = await sign(rsa, claimsAt(ISSUER), { typ });
        await checkAccessToken(token, keys, opts());
      });
    }

    it('the RFC 9068 profile claims client_id and scope', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { client_id: 'client-1', scope: 'openid profile' }), { typ: 'at+jwt' });
      const result = await checkAccessToken(token, keys, opts());
      assert.equal(result.client_id, 'client-1');
      assert.equal(result.scope, 'openid profile');
    });

    it('a key given as a node KeyObject', async () => {
      const keyObject = createPublicKey(await exportSPKI(rsa.publicKey));
      const resolver: KeyResolver = async () => ({ key: keyObject, alg: 'RS256' });
      await checkAccessToken(await sign(rsa, claimsAt(ISSUER)), resolver, opts());
    });

    it('an HS256 token when the key source pins a shared secret to HS256', async () => {
      const secret = new Uint8Array(32).fill(7);
      const token = await new SignJWT(claimsAt(ISSUER)).setProtectedHeader({ alg: 'HS256', kid: 's1' }).sign(secret);
      await checkAccessToken(token, async () => ({ key: secret, alg: 'HS256' }), opts());
    });
  });

  describe('algorithm pinning (RFC 8725 §3.1)', () => {
    it('refuses alg "none" without consulting the key source', async () => {
      let consulted = false;
      const spy: KeyResolver = async (header) => {
        consulted = true;
        return keys(header);
      };
      const unsecured = handBuilt({ alg: 'none', kid: rsa.kid }, claimsAt(ISSUER));
      await assert.rejects(checkAccessToken(unsecured, spy, opts()), expectTokenError('invalid_token', /unsecured/));
      // "None" in any case, and with a bogus signature appended.
      const withSig = `${unsecured}AAAA`;
      const upper = handBuilt({ alg: 'NONE', kid: rsa.kid }, claimsAt(ISSUER)) + 'AAAA';
      await assert.rejects(checkAccessToken(withSig, spy, opts()), expectTokenError('invalid_token', /none/));
      await assert.rejects(checkAccessToken(upper, spy, opts()), expectTokenError('invalid_token', /none/));
      assert.equal(consulted, false);
    });

    it('refuses HS256 signed with the RSA public key (key confusion, CVE-2015-9235)', async () => {
      const pem = await exportSPKI(rsa.publicKey);
      for (const secret of [pem, pem.trim(), createPublicKey(pem).export({ type: 'spki', format: 'der' })]) {
        const forged = handBuilt({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' }, claimsAt(ISSUER), secret);
        await assert.rejects(checkAccessToken(forged, keys, opts()), expectTokenError('invalid_token', 'algorithm not allowed for this key'));
      }
    });

    it('refuses an algorithm swap to another algorithm (PS256, ES256) under the RSA key', async () => {
      for (const alg of ['PS256', 'RS512', 'ES256']) {
        const swapped = handBuilt({ alg, kid: rsa.kid }, claimsAt(ISSUER), 'x');
        await assert.rejects(checkAccessToken(swapped, keys, opts()), expectTokenError('invalid_token', 'algorithm not allowed for this key'));
      }
    });

    it("refuses a token presented under another key's kid", async () => {
      const swapped = await sign(rsa, claimsAt(ISSUER), { kid: ec.kid });
      await assert.rejects(checkAccessToken(swapped, keys, opts()), expectTokenError('invalid_token', 'algorithm not allowed for this key'));
    });

    it('passes an unknown kid error through from the key source', async () => {
      const token = await sign(rsa, claimsAt(ISSUER), { kid: 'no-such-key' });
      await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', 'unknown key id'));
    });

    it('turns a failing key source into 503 temporarily_unavailable', async () => {
      const broken: KeyResolver = async () => {
        throw new Error('ECONNREFUSED');
      };
      const err = await checkAccessToken(await sign(rsa, claimsAt(ISSUER)), broken, opts()).catch((e: unknown) => e);
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'temporarily_unavailable');
      assert.equal(err.status, 503);
    });
  });

  describe('header (RFC 8725 §3.10, RFC 7515 §4.1)', () => {
    for (const name of ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const) {
      it(`refuses a "${name}" header parameter`, async () => {
        const values = {
          jku: 'https://attacker.example/jwks',
          x5u: 'https://attacker.example/cert.pem',
          jwk: { ...rsa.jwk },
          x5c: ['MIIB'],
          crit: ['urn:example:ext'],
        };
        // Signed with the genuine key: the header itself is what must be refused.
        const header = { alg: 'RS256', kid: rsa.kid, [name]: values[name], 'urn:example:ext': 1 };
        const token = await new SignJWT(claimsAt(ISSUER))
          .setProtectedHeader(header as never)
          .sign(rsa.privateKey, { crit: { 'urn:example:ext': true } });
        await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', `header parameter "${name}" is not allowed`));
      });
    }

    it('refuses an unexpected typ (e.g. an ID token)', async () => {
      for (const typ of ['dpop+jwt', 'logout+jwt', '']) {
        const token = await sign(rsa, claimsAt(ISSUER), { typ });
        await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', /typ/));
      }
    });

    it('refuses what is not a compact JWS', async () => {
      const good = await sign(rsa, claimsAt(ISSUER));
      const [h, p, s] = good.split('.');
      for (const bad of ['', 'abc', `${h}.${p}`, `${h}.${p}.${s}.x.y`, `${h}..${s}`, `${h}.${p}.${s}=`, ` ${good}`, `${good}\n`, 'a'.repeat(9000)]) {
        await assert.rejects(checkAccessToken(bad, keys, opts()), expectTokenError('invalid_token'), JSON.stringify(bad.slice(0, 20)));
      }
    });

    it('refuses a header that is not JSON, or has no alg, or a non-string kid', async () => {
      const payload = claimsAt(ISSUER);
      const tokens = [
        `${Buffer.from('not json').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.AAAA`,
        handBuilt({ kid: rsa.kid }, payload, 'x'),
        handBuilt({ alg: 'RS256', kid: 42 }, payload, 'x'),
      ];
      for (const token of tokens) {
        await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token'));
      }
    });
  });

  describe('integrity', () => {
    it('refuses a tampered payload', async () => {
      const [h, , s] = (await sign(rsa, claimsAt(ISSUER))).split('.');
      const elevated = Buffer.from(JSON.stringify(claimsAt(ISSUER, T0, { scp: ['rcauth:admin'] }))).toString('base64url');
      await assert.rejects(checkAccessToken(`${h}.${elevated}.${s}`, keys, opts()), expectTokenError('invalid_token', 'signature verification failed'));
    });

    it('refuses a tampered signature', async () => {
      const token = await sign(rsa, claimsAt(ISSUER));
      const sig = Buffer.from(token.split('.')[2]!, 'base64url');
      sig[10] = sig[10]! ^ 0x01;
      const tampered = `${token.split('.').slice(0, 2).join('.')}.${sig.toString('base64url')}`;
      await assert.rejects(checkAccessToken(tampered, keys, opts()), expectTokenError('invalid_token', 'signature verification failed'));
    });

    it('refuses a payload that is not a JSON object', async () => {
      const header = { alg: 'HS256', kid: 's' };
      const secret = Buffer.alloc(32, 1);
      const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from('[1,2]').toString('base64url')}`;
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      await assert.rejects(checkAccessToken(token, async () => ({ key: new Uint8Array(secret), alg: 'HS256' }), opts()), expectTokenError('invalid_token', 'malformed token'));
    });
  });

  describe('time (RFC 7519 §4.1.4, §4.1.5)', () => {
    it('refuses an expired token', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0 + 3600) })), expectTokenError('invalid_token', 'token expired'));
    });

    it('refuses a token whose nbf is in the future', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { nbf: T0 + 600 }));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0 + 60) })), expectTokenError('invalid_token', 'token not yet valid'));
      await checkAccessToken(token, keys, opts({ currentDate: at(T0 + 600) }));
    });

    it('refuses a token issued in the future', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0 + 120));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0) })), expectTokenError('invalid_token', 'token issued in the future'));
    });

    it('honours clockTolerance for exp, nbf and iat, via currentDate', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { nbf: T0 }));
      const exp = T0 + 3600;
      // exp: valid strictly before exp; with 5 s tolerance until exp + 5.
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(exp) })), expectTokenError('invalid_token', 'token expired'));
      await checkAccessToken(token, keys, opts({ currentDate: at(exp + 4), clockTolerance: 5 }));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(exp + 5), clockTolerance: 5 })), expectTokenError('invalid_token', 'token expired'));
      // iat and nbf: a verifier whose clock is 5 s behind the issuer.
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0 - 5) })), expectTokenError('invalid_token'));
      await checkAccessToken(token, keys, opts({ currentDate: at(T0 - 5), clockTolerance: 5 }));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0 - 6), clockTolerance: 5 })), expectTokenError('invalid_token'));
    });

    it('refuses a negative or non-finite clockTolerance as a programming error', async () => {
      const token = await sign(rsa, claimsAt(ISSUER));
      await assert.rejects(checkAccessToken(token, keys, opts({ clockTolerance: -1 })), TypeError);
      await assert.rejects(checkAccessToken(token, keys, opts({ clockTolerance: Number.NaN })), TypeError);
    });
  });

  describe('issuer and audience', () => {
    it('refuses a wrong iss', async () => {
      const token = await sign(rsa, claimsAt('https://evil.example'));
      await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', 'unexpected issuer'));
      const slash = await sign(rsa, claimsAt(`${ISSUER}/`));
      await assert.rejects(checkAccessToken(slash, keys, opts()), expectTokenError('invalid_token', 'unexpected issuer'));
    });

    it('refuses a wrong aud', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { aud: 'api://other' }));
      await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', 'unexpected audience'));
    });

    it('refuses aud as an array, even one that contains our audience (SPEC §12: a string)', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { aud: [AUDIENCE, 'api://other'] }));
      await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', 'unexpected audience'));
    });
  });

  describe('claims (SPEC §3)', () => {
    for (const claim of ['ver', 'jti', 'iss', 'aud', 'iat', 'exp', 'cid', 'uid', 'scp', 'sub', 'auth_time']) {
      it(`refuses a token without "${claim}"`, async () => {
        const token = await sign(rsa, claimsAt(ISSUER, T0, { [claim]: undefined }));
        await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', `missing required "${claim}" claim`));
      });
    }

    const wrongTypes: Array<[string, unknown]> = [
      ['ver', '1'], ['ver', 2], ['jti', ''], ['jti', 7], ['cid', null], ['uid', ''], ['sub', 42],
      ['scp', 'openid profile'], ['scp', ['openid', 3]], ['auth_time', '1700000000'], ['iat', 'now'],
      ['exp', '2030-01-01'], ['nbf', 'soon'], ['client_id', 5], ['scope', ['openid']],
    ];
    for (const [claim, value] of wrongTypes) {
      it(`refuses ${claim} = ${JSON.stringify(value)}`, async () => {
        const token = await sign(rsa, claimsAt(ISSUER, T0, { [claim]: value }));
        const rule = claim === 'ver' ? 'unsupported token version' : `invalid "${claim}" claim`;
        await assert.rejects(checkAccessToken(token, keys, opts()), expectTokenError('invalid_token', rule));
      });
    }

    it('refuses exp not after iat', async () => {
      const token = await sign(rsa, claimsAt(ISSUER, T0, { exp: T0 + 3600, iat: T0 + 3600 }));
      await assert.rejects(checkAccessToken(token, keys, opts({ currentDate: at(T0 + 3600 - 1), clockTolerance: 5 })), expectTokenError('invalid_token', 'invalid "exp" claim'));
    });

    it('never puts the token into an error description', async () => {
      const token = await sign(rsa, claimsAt('https://evil.example'));
      const err = await checkAccessToken(token, keys, opts()).catch((e: unknown) => e as TokenError);
      assert.ok(err instanceof TokenError);
      for (const part of token.split('.')) assert.ok(!err.message.includes(part));
      assert.ok(!err.description.includes('evil'));
    });
  });

  it('throws TypeError on misuse', async () => {
    await assert.rejects(checkAccessToken(undefined as unknown as string, keys, opts()), TypeError);
    await assert.rejects(checkAccessToken('a.b.c', keys, { issuer: '', audience: AUDIENCE }), TypeError);
  });
});
