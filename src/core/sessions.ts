import { randomUUID } from 'node:crypto';
import { hashSecret, randomToken, seal, unseal } from './crypto.js';
import { InvalidGrant, InvalidScope, SlowDown } from './errors.js';
import type { AuditLog } from './audit.js';
import type { PasswordHasher } from './passwords.js';
import type { AccountRecord, FamilyRecord, Store } from './store.js';
import type { LoginThrottle } from './throttle.js';
import type { TokenIssuer } from './tokens.js';

/** The four members of the documented success body, and nothing else. */
export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  access_token: string;
  refresh_token: string;
}

export interface RequestContext {
  issuer: string;
  clientIp: string;
  userAgent: string | null;
  requestId: string | null;
  /** A registered client id named by the request, if any. */
  clientId?: string;
}

export interface SessionPolicy {
  /** ms */
  absoluteTtl: number;
  idleTtl: number;
  grace: number;
  defaultClientId: string;
  clients: readonly string[];
}

export type SessionEvent =
  | { kind: 'login'; outcome: 'ok' | 'failed' | 'throttled' }
  | { kind: 'refresh'; outcome: 'ok' | 'failed' | 'reuse' | 'grace' };

/** A well-formed refresh token is exactly 43 base64url characters (32 bytes). */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const GRACE_INFO = 'rcauth grace response';

/**
 * Sessions: the password grant that starts a refresh-token family, and the
 * refresh grant that rotates it (RFC 9700 §4.14.2: rotation with reuse
 * detection). Pure policy over the Store; no HTTP, no SQL.
 */
export class SessionService {
  constructor(
    private readonly deps: {
      store: Store;
      hasher: PasswordHasher;
      issuer: TokenIssuer;
      throttle: LoginThrottle;
      audit: AuditLog;
      policy: SessionPolicy;
      now: () => number;
      onEvent?: (e: SessionEvent) => void;
    },
  ) {}

  /** grant_type=password. Every failure costs one argon2 verify and gives one answer. */
  async passwordGrant(username: string, password: string, requestedScope: string | undefined, ctx: RequestContext): Promise<TokenResponse> {
    const { store, hasher, throttle, audit, now } = this.deps;
    const at = now();
    const base = { username, clientIp: ctx.clientIp, requestId: ctx.requestId };

    const { wait, counted } = await throttle.check(username, ctx.clientIp, at);
    if (wait > 0) {
      await hasher.dummyVerify(password);
      await audit.record({ ...base, type: 'login', outcome: 'throttled' });
      this.deps.onEvent?.({ kind: 'login', outcome: 'throttled' });
      throw new SlowDown(wait);
    }

    const account = await store.findAccountByUsername(username);
    const ok = account && !account.disabled ? await hasher.verify(account.passwordHash, password) : await hasher.dummyVerify(password);
    if (!account || !ok) {
      await throttle.failed(username, ctx.clientIp, at);
      await audit.record({ ...base, accountId: account?.id ?? null, type: 'login', outcome: 'failed', detail: { reason: !account ? 'unknown' : account.disabled ? 'disabled' : 'password' } });
      this.deps.onEvent?.({ kind: 'login', outcome: 'failed' });
      throw new InvalidGrant();
    }

    const scopes = grantedScopes(account, requestedScope);
    if (counted) await throttle.succeeded(username, ctx.clientIp);
    // A hash made with weaker parameters is upgraded now, while we hold the password (SPEC §5).
    const rehash = hasher.needsRehash(account.passwordHash) ? { passwordHash: await hasher.hash(password) } : {};
    await store.updateAccount(account.id, { lastLoginAt: at, ...rehash }, at);

    const refreshToken = randomToken(32);
    const clientId = this.clientId(ctx);
    const authTime = Math.floor(at / 1000);
    const family: Omit<FamilyRecord, 'revokedAt' | 'revokedReason' | 'previousHash' | 'graceResponse' | 'graceUntil'> = {
      id: randomUUID(),
      accountId: account.id,
      clientId,
      scopes,
      authTime,
      createdAt: at,
      lastUsedAt: at,
      expiresAt: at + this.deps.policy.absoluteTtl,
      idleExpiresAt: Math.min(at + this.deps.policy.idleTtl, at + this.deps.policy.absoluteTtl),
      currentHash: hashSecret(refreshToken),
      clientIp: ctx.clientIp,
      userAgent: ctx.userAgent?.slice(0, 256) ?? null,
    };
    const access = await this.deps.issuer.issue({
      issuer: ctx.issuer, clientId, accountId: account.id, username: account.username, scopes, authTime, now: at,
      tokensValidAfter: account.tokensValidAfter,
    });
    await store.createFamily(family);
    await audit.record({ ...base, username: account.username, accountId: account.id, type: 'login', outcome: 'ok', detail: { session: family.id } });
    this.deps.onEvent?.({ kind: 'login', outcome: 'ok' });
    return this.response(access.token, refreshToken);
  }

  /** grant_type=refresh_token: rotate, or detect reuse and end the family. */
  async refreshGrant(refreshToken: string, ctx: RequestContext): Promise<TokenResponse> {
    const { store, now, policy } = this.deps;
    const at = now();
    if (!REFRESH_TOKEN.test(refreshToken)) return this.refused('malformed');
    const hash = hashSecret(refreshToken);
    const found = await store.findRefreshToken(hash);
    if (!found) return this.refused('unknown');
    const { token, family, account } = found;
    if (family.revokedAt !== null) return this.refused('revoked');
    if (family.expiresAt <= at || family.idleExpiresAt <= at) return this.refused('expired');

    if (token.used) return this.replayOrReuse(refreshToken, hash, family, at, ctx);

    if (!account || account.disabled) {
      await store.revokeFamily(family.id, at, 'account');
      return this.refused('account');
    }

    const next = randomToken(32);
    const access = await this.deps.issuer.issue({
      issuer: ctx.issuer, clientId: family.clientId, accountId: account.id, username: account.username,
      scopes: family.scopes, authTime: family.authTime, now: at, tokensValidAfter: account.tokensValidAfter,
    });
    const response = this.response(access.token, next);
    const won = await store.rotate({
      familyId: family.id,
      oldHash: hash,
      newHash: hashSecret(next),
      now: at,
      idleExpiresAt: Math.min(at + policy.idleTtl, family.expiresAt),
      // Sealed under the presented token: only its holder can ever open it (SPEC §3).
      graceResponse: policy.grace > 0 ? seal(JSON.stringify(response), refreshToken, GRACE_INFO) : null,
      graceUntil: policy.grace > 0 ? at + policy.grace : null,
    });
    if (!won) {
      // Another request rotated this token first: treat ours like a second presentation.
      const current = await store.findFamily(family.id);
      return current ? this.replayOrReuse(refreshToken, hash, current, now(), ctx) : this.refused('unknown');
    }
    // Successful refreshes are routine, not security events (SPEC §7): no audit row, so
    // the audit table does not grow with every rotation.
    this.deps.onEvent?.({ kind: 'refresh', outcome: 'ok' });
    return response;
  }

  /** RFC 7009: revoking a refresh token ends its session; unknown tokens are fine. */
  async revokeRefreshToken(refreshToken: string, ctx: RequestContext): Promise<void> {
    if (!REFRESH_TOKEN.test(refreshToken)) return;
    const found = await this.deps.store.findRefreshToken(hashSecret(refreshToken));
    if (!found) return;
    if (await this.deps.store.revokeFamily(found.family.id, this.deps.now(), 'revoked')) {
      const account = await this.deps.store.findAccountById(found.family.accountId);
      await this.deps.audit.record({ type: 'revoke', outcome: 'ok', username: account?.username ?? null, accountId: found.family.accountId, clientIp: ctx.clientIp, requestId: ctx.requestId, detail: { session: found.family.id } });
    }
  }

  private async replayOrReuse(refreshToken: string, hash: string, family: FamilyRecord, at: number, ctx: RequestContext): Promise<TokenResponse> {
    const { store, audit } = this.deps;
    const inGrace = family.revokedAt === null && family.previousHash === hash && family.graceResponse !== null &&
      family.graceUntil !== null && at <= family.graceUntil;
    if (inGrace) {
      const text = unseal(family.graceResponse!, refreshToken, GRACE_INFO);
      if (text !== null) {
        this.deps.onEvent?.({ kind: 'refresh', outcome: 'grace' });
        return JSON.parse(text) as TokenResponse;
      }
    }
    await store.revokeFamily(family.id, at, 'reuse');
    const account = await store.findAccountById(family.accountId);
    await audit.record({ type: 'refresh_reuse', outcome: 'detected', username: account?.username ?? null, accountId: family.accountId, clientIp: ctx.clientIp, requestId: ctx.requestId, detail: { session: family.id } });
    this.deps.onEvent?.({ kind: 'refresh', outcome: 'reuse' });
    throw new InvalidGrant(undefined, { cause: 'refresh token reuse' });
  }

  private refused(reason: string): never {
    this.deps.onEvent?.({ kind: 'refresh', outcome: 'failed' });
    throw new InvalidGrant(undefined, { cause: reason });
  }

  private clientId(ctx: RequestContext): string {
    return ctx.clientId && this.deps.policy.clients.includes(ctx.clientId) ? ctx.clientId : this.deps.policy.defaultClientId;
  }

  private response(accessToken: string, refreshToken: string): TokenResponse {
    return { token_type: 'Bearer', expires_in: this.deps.issuer.accessTtl, access_token: accessToken, refresh_token: refreshToken };
  }
}

/** The requested scopes (space separated), which must all be the account's; default all of them. */
function grantedScopes(account: AccountRecord, requested: string | undefined): string[] {
  if (requested === undefined || requested.trim() === '') return [...account.scopes];
  const wanted = [...new Set(requested.split(' ').filter(Boolean))];
  const missing = wanted.filter((s) => !account.scopes.includes(s));
  if (missing.length > 0) throw new InvalidScope(`The account has no scope ${missing.map((s) => `"${s}"`).join(', ')}.`);
  return wanted;
}
