import { InvalidToken } from './errors.js';
import type { KeyRing } from './keys.js';
import type { AccountRecord, Store } from './store.js';
import { checkAccessToken, TokenError, type AccessTokenClaims } from '../verify/check.js';

/** RFC 7662 §2.2 response. */
export type Introspection =
  | { active: false }
  | {
      active: true; scope: string; client_id: string; username: string; token_type: 'Bearer';
      exp: number; iat: number; sub: string; aud: string; iss: string; jti: string; uid: string; auth_time: number;
    };

/**
 * The server's own token checks (introspection, gateway, admin API): the verify
 * SDK's checker fed with the store's keys, plus revocation — an access token is
 * inactive once its account is gone, disabled, or revoked after the token's iat.
 */
export class TokenInspector {
  constructor(private readonly deps: { keys: KeyRing; store: Store; audience: string; now: () => number }) {}

  /** Returns the claims and account of a live token; throws invalid_token otherwise. */
  async check(token: string, issuer: string): Promise<{ claims: AccessTokenClaims; account: AccountRecord }> {
    let claims: AccessTokenClaims;
    try {
      claims = await checkAccessToken(token, async (header) => {
        const found = header.kid ? await this.deps.keys.resolve(header.kid) : null;
        if (!found) throw new TokenError('invalid_token', 'The token was signed with an unknown key.');
        return found;
      }, { issuer, audience: this.deps.audience, clockTolerance: 1, currentDate: new Date(this.deps.now()) });
    } catch (err) {
      if (err instanceof TokenError) throw new InvalidToken(err.description, { cause: err });
      throw err;
    }
    const account = await this.deps.store.findAccountById(claims.uid);
    if (!account || account.disabled || claims.iat * 1000 < account.tokensValidAfter) {
      throw new InvalidToken('The access token has been revoked.');
    }
    return { claims, account };
  }

  async introspect(token: string, issuer: string): Promise<Introspection> {
    try {
      const { claims } = await this.check(token, issuer);
      return {
        active: true, scope: claims.scp.join(' '), client_id: claims.cid, username: claims.sub, token_type: 'Bearer',
        exp: claims.exp, iat: claims.iat, sub: claims.sub, aud: claims.aud, iss: claims.iss, jti: claims.jti, uid: claims.uid,
        auth_time: claims.auth_time,
      };
    } catch (err) {
      if (err instanceof InvalidToken) return { active: false };
      throw err;
    }
  }
}
