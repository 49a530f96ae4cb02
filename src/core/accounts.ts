import { randomUUID } from 'node:crypto';
import { Conflict, InvalidRequest, NotFound, UniqueViolation } from './errors.js';
import type { AuditLog } from './audit.js';
import { assertPasswordAllowed, generatePassword, type PasswordHasher } from './passwords.js';
import type { AccountRecord, Store } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { assertUsernameAllowed } from './usernames.js';

export const DEFAULT_SCOPES = Object.freeze(['openid', 'offline_access', 'profile']);

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/; // RFC 6749 §3.3 scope-token

/** Who acts, for the audit log: an admin's username, or "cli". */
export interface Actor {
  actor: string;
  requestId?: string | null;
  clientIp?: string | null;
}

/**
 * Account administration shared by the CLI and the admin API. Every change that
 * should end sessions (password, disable, remove, revoke) ends all refresh
 * families and moves the account's not-before time, so earlier access tokens
 * become inactive too (SPEC §5).
 */
export class AccountService {
  constructor(
    private readonly deps: { store: Store; hasher: PasswordHasher; audit: AuditLog; throttle: LoginThrottle; now: () => number; passwordMinLength: number },
  ) {}

  /** Creates an account; without a password one is generated and returned once. */
  async create(username: string, password: string | undefined, scopes: readonly string[] | undefined, by: Actor): Promise<{ account: AccountRecord; password: string; generated: boolean }> {
    assertUsernameAllowed(username);
    const finalScopes = normalizeScopes(scopes ?? DEFAULT_SCOPES);
    const generated = password === undefined;
    const secret = password ?? generatePassword();
    if (!generated) assertPasswordAllowed(secret, this.deps.passwordMinLength);
    const at = this.deps.now();
    try {
      const account = await this.deps.store.createAccount({
        id: randomUUID(), username, passwordHash: await this.deps.hasher.hash(secret), scopes: finalScopes, disabled: false, createdAt: at,
      });
      await this.audit('account_created', account, by, { scopes: finalScopes });
      return { account, password: secret, generated };
    } catch (err) {
      if (err instanceof UniqueViolation) throw new Conflict(`An account named "${username}" exists already (usernames ignore case).`);
      throw err;
    }
  }

  async get(username: string): Promise<AccountRecord> {
    const account = await this.deps.store.findAccountByUsername(username);
    if (!account) throw new NotFound(`No account named "${username}".`);
    return account;
  }

  list(filter?: { search?: string; limit?: number; offset?: number }): Promise<AccountRecord[]> {
    return this.deps.store.listAccounts(filter);
  }

  async setPassword(username: string, password: string, by: Actor): Promise<AccountRecord> {
    assertPasswordAllowed(password, this.deps.passwordMinLength);
    const account = await this.get(username);
    await this.deps.store.updateAccount(account.id, { passwordHash: await this.deps.hasher.hash(password) }, this.deps.now());
    await this.endSessions(account, 'password');
    await this.audit('password_changed', account, by);
    return account;
  }

  async setDisabled(username: string, disabled: boolean, by: Actor): Promise<AccountRecord> {
    const account = await this.get(username);
    await this.deps.store.updateAccount(account.id, { disabled }, this.deps.now());
    if (disabled) await this.endSessions(account, 'disabled');
    await this.audit(disabled ? 'account_disabled' : 'account_enabled', account, by);
    return { ...account, disabled };
  }

  async setScopes(username: string, scopes: readonly string[], by: Actor): Promise<AccountRecord> {
    const account = await this.get(username);
    const finalScopes = normalizeScopes(scopes);
    await this.deps.store.updateAccount(account.id, { scopes: finalScopes }, this.deps.now());
    await this.audit('scopes_changed', account, by, { scopes: finalScopes });
    return { ...account, scopes: finalScopes };
  }

  async remove(username: string, by: Actor): Promise<void> {
    const account = await this.get(username);
    await this.endSessions(account, 'removed');
    await this.deps.store.removeAccount(account.id);
    await this.audit('account_removed', account, by);
  }

  /** Ends every session of the account; returns how many were live. */
  async revokeSessions(username: string, by: Actor): Promise<number> {
    const account = await this.get(username);
    const n = await this.endSessions(account, 'revoked');
    await this.audit('sessions_revoked', account, by, { sessions: n });
    return n;
  }

  /** Ends one session (family) of the account. */
  async revokeSession(username: string, sessionId: string, by: Actor): Promise<void> {
    const account = await this.get(username);
    const family = await this.deps.store.findFamily(sessionId);
    if (!family || family.accountId !== account.id) throw new NotFound('No such session for this account.');
    // Ending an ended session is not a second event.
    if (!(await this.deps.store.revokeFamily(family.id, this.deps.now(), 'revoked'))) throw new NotFound('That session has ended already.');
    await this.audit('revoke', account, by, { session: family.id });
  }

  async unlock(username: string, by: Actor): Promise<void> {
    await this.deps.throttle.unlock(username);
    const account = await this.deps.store.findAccountByUsername(username);
    await this.deps.audit.record({ type: 'account_unlocked', outcome: 'ok', username: account?.username ?? username, accountId: account?.id ?? null, actor: by.actor, requestId: by.requestId ?? null, clientIp: by.clientIp ?? null });
  }

  private async endSessions(account: AccountRecord, reason: string): Promise<number> {
    const at = this.deps.now();
    const n = await this.deps.store.revokeAccountFamilies(account.id, at, reason);
    await this.deps.store.updateAccount(account.id, { tokensValidAfter: at }, at);
    return n;
  }

  private audit(type: Parameters<AuditLog['record']>[0]['type'], account: AccountRecord, by: Actor, detail?: Record<string, unknown>): Promise<void> {
    return this.deps.audit.record({ type, outcome: 'ok', username: account.username, accountId: account.id, actor: by.actor, requestId: by.requestId ?? null, clientIp: by.clientIp ?? null, detail: detail ?? null });
  }
}

export function normalizeScopes(scopes: readonly string[]): string[] {
  const out = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
  const bad = out.find((s) => !SCOPE.test(s));
  if (bad !== undefined) throw new InvalidRequest(`"${bad}" is not a valid scope (RFC 6749 §3.3).`);
  return out;
}
