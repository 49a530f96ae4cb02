/** Row ↔ record mapping shared by the SQLite and PostgreSQL stores (same columns, JSON text for arrays). */
import type { AccountRecord, AuditEvent, FamilyRecord, SigningKeyRecord } from '../core/store.js';

export type Row = Record<string, unknown>;

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function accountFromRow(r: Row): AccountRecord {
  return {
    id: String(r.id),
    username: String(r.username),
    passwordHash: String(r.password_hash),
    scopes: JSON.parse(String(r.scopes)) as string[],
    disabled: Boolean(r.disabled),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    lastLoginAt: numOrNull(r.last_login_at),
    tokensValidAfter: num(r.tokens_valid_after),
  };
}

export function familyFromRow(r: Row): FamilyRecord {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    clientId: String(r.client_id),
    scopes: JSON.parse(String(r.scopes)) as string[],
    authTime: num(r.auth_time),
    createdAt: num(r.created_at),
    lastUsedAt: num(r.last_used_at),
    expiresAt: num(r.expires_at),
    idleExpiresAt: num(r.idle_expires_at),
    revokedAt: numOrNull(r.revoked_at),
    revokedReason: strOrNull(r.revoked_reason),
    currentHash: String(r.current_hash),
    previousHash: strOrNull(r.previous_hash),
    graceResponse: strOrNull(r.grace_response),
    graceUntil: numOrNull(r.grace_until),
    clientIp: strOrNull(r.client_ip),
    userAgent: strOrNull(r.user_agent),
  };
}

export function keyFromRow(r: Row): SigningKeyRecord {
  return {
    kid: String(r.kid),
    alg: String(r.alg),
    publicJwk: String(r.public_jwk),
    privateJwk: String(r.private_jwk),
    createdAt: num(r.created_at),
    retiredAt: numOrNull(r.retired_at),
  };
}

export function auditFromRow(r: Row): AuditEvent {
  return {
    at: num(r.at),
    type: String(r.type),
    outcome: String(r.outcome) as AuditEvent['outcome'],
    username: strOrNull(r.username),
    accountId: strOrNull(r.account_id),
    clientIp: strOrNull(r.client_ip),
    requestId: strOrNull(r.request_id),
    actor: strOrNull(r.actor),
    detail: r.detail ? (JSON.parse(String(r.detail)) as Record<string, unknown>) : null,
  };
}

/** Account columns selected with an `a_` prefix next to another table's (one joined read). */
export const ACCOUNT_COLUMNS_AS_A = ['id', 'username', 'password_hash', 'scopes', 'disabled', 'created_at', 'updated_at', 'last_login_at', 'tokens_valid_after']
  .map((c) => `a.${c} AS a_${c}`).join(', ');

/** The account of an `a_`-prefixed joined row, or null when the join found none. */
export function prefixedAccountFromRow(r: Row): AccountRecord | null {
  if (r.a_id === null || r.a_id === undefined) return null;
  const own: Row = {};
  for (const [k, v] of Object.entries(r)) if (k.startsWith('a_')) own[k.slice(2)] = v;
  return accountFromRow(own);
}
