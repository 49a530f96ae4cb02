import { sign, type KeyObject } from 'node:crypto';
import { randomToken } from './crypto.js';
import type { KeyRing } from './keys.js';
import type { AccessTokenClaims } from '../verify/check.js';

export type TokenProfile = 'recoveryconnect' | 'rfc9068';

/** The documented claim set (seed document); the verify SDK's type is the one definition. */
export type AccessClaims = AccessTokenClaims;

export interface IssueInput {
  issuer: string;
  clientId: string;
  accountId: string;
  username: string;
  scopes: string[];
  authTime: number;
  /** ms; tokens are issued no earlier than the account's revocation time (see below). */
  now: number;
  tokensValidAfter: number;
}

/**
 * Signs access tokens. `jti` is "AT." + 32 base64url characters (24 random bytes,
 * 192 bits). `iat` is never below the account's revocation time, rounded up to the
 * second, so that a token issued in the same second as a revocation but after it is
 * not reported inactive (iat has one-second resolution).
 */
export class TokenIssuer {
  constructor(
    private readonly keys: KeyRing,
    private readonly opts: { audience: string; accessTtl: number; profile: TokenProfile },
  ) {}

  get accessTtl(): number {
    return this.opts.accessTtl;
  }

  async issue(input: IssueInput): Promise<{ token: string; claims: AccessClaims }> {
    const key = this.keys.active();
    const iat = Math.max(Math.floor(input.now / 1000), Math.ceil(input.tokensValidAfter / 1000));
    const claims: AccessClaims = {
      ver: 1,
      jti: `AT.${randomToken(24)}`,
      iss: input.issuer,
      aud: this.opts.audience,
      iat,
      exp: iat + this.opts.accessTtl,
      cid: input.clientId,
      uid: input.accountId,
      scp: input.scopes,
      auth_time: input.authTime,
      sub: input.username,
    };
    const header: { kid: string; alg: string; typ?: string } = { kid: key.kid, alg: key.alg };
    if (this.opts.profile === 'rfc9068') {
      // RFC 9068 §2.1/§2.2: typ at+jwt, client_id and a space-separated scope.
      header.typ = 'at+jwt';
      claims.client_id = input.clientId;
      claims.scope = input.scopes.join(' ');
    }
    if (!key.privateKey) throw new Error('active key has no private half');
    const token = await this.signCompact(key.privateKey, header, claims);
    return { token, claims };
  }

  /**
   * RFC 7515 compact serialization through node:crypto's callback API, which signs
   * on the libuv pool like jose's WebCrypto path but costs the event loop about a
   * third less per token; the refresh path is bound by the main thread. ECDSA
   * signatures are r‖s as JWS wants (RFC 7518 §3.4), not DER; RSA ignores the
   * option. Every token is still checked with jose (verify/check.ts, and the tests
   * verify against the JWKS).
   */
  private signCompact(privateKey: KeyObject, header: object, claims: AccessClaims): Promise<string> {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode(header)}.${encode(claims)}`;
    return new Promise((resolve, reject) => {
      sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }, (err, signature) => {
        if (err) reject(err);
        else resolve(`${input}.${signature.toString('base64url')}`);
      });
    });
  }
}
