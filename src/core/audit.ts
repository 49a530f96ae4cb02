import type { AuditEvent, Store } from './store.js';

export type AuditType =
  | 'login' | 'refresh' | 'refresh_reuse' | 'revoke' | 'sessions_revoked'
  | 'account_created' | 'account_removed' | 'account_disabled' | 'account_enabled' | 'password_changed'
  | 'scopes_changed' | 'account_unlocked' | 'key_rotated' | 'key_created';

export type AuditInput = Partial<Omit<AuditEvent, 'type' | 'outcome'>> & { type: AuditType; outcome: AuditEvent['outcome'] };

/**
 * Records security events. A failed audit write never fails the request it
 * describes; it is reported through `onError` (the server logs it).
 */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async record(e: AuditInput): Promise<void> {
    try {
      await this.store.appendAudit({
        at: e.at ?? this.now(),
        type: e.type,
        outcome: e.outcome,
        username: e.username ?? null,
        accountId: e.accountId ?? null,
        clientIp: e.clientIp ?? null,
        requestId: e.requestId ?? null,
        actor: e.actor ?? null,
        detail: e.detail ?? null,
      });
    } catch (err) {
      this.onError(err);
    }
  }
}
