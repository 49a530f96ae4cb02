import type { AccountRecord, AuditEvent, FamilyRecord } from '../core/store.js';

/**
 * Wire shapes of the admin API. Only what an operator needs leaves the server:
 * never a password hash, a refresh-token hash or a sealed grace response.
 * Times are ISO 8601 strings (UTC), like the CLI's `--json` output.
 */

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export interface AccountView {
  id: string;
  username: string;
  scopes: string[];
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

export function accountView(a: AccountRecord): AccountView {
  return {
    id: a.id, username: a.username, scopes: [...a.scopes], disabled: a.disabled,
    createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt), lastLoginAt: isoOrNull(a.lastLoginAt),
  };
}

export interface SessionView {
  id: string;
  clientId: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string;
  clientIp: string | null;
  userAgent: string | null;
  /** Whichever comes first: the absolute end or the idle end. */
  expiresAt: string;
  absoluteExpiresAt: string;
  idleExpiresAt: string;
}

export function sessionView(f: FamilyRecord): SessionView {
  return {
    id: f.id, clientId: f.clientId, scopes: [...f.scopes], createdAt: iso(f.createdAt), lastUsedAt: iso(f.lastUsedAt),
    clientIp: f.clientIp, userAgent: f.userAgent,
    expiresAt: iso(Math.min(f.expiresAt, f.idleExpiresAt)), absoluteExpiresAt: iso(f.expiresAt), idleExpiresAt: iso(f.idleExpiresAt),
  };
}

export function auditView(e: AuditEvent): Omit<AuditEvent, 'at'> & { at: string } {
  return { ...e, at: iso(e.at) };
}

export function keyView(k: { kid: string; alg: string; status: string; createdAt: number; retiredAt: number | null }) {
  return { kid: k.kid, alg: k.alg, status: k.status, createdAt: iso(k.createdAt), retiredAt: isoOrNull(k.retiredAt) };
}
