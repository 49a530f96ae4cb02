/**
 * The storage contract, shaped by what the sessions need. Two implementations
 * (src/store/sqlite, src/store/postgres) satisfy it, and one contract test suite
 * (test/store/contract.test.ts) runs against both.
 *
 * Conventions: every time is a whole number of milliseconds since the epoch;
 * every method is async (PostgreSQL is); a database that cannot be reached
 * raises StoreUnavailable; a unique-key clash raises UniqueViolation.
 */

export interface AccountRecord {
  /** Stable, opaque, never reused (`uid` claim). */
  id: string;
  /** As created; unique ignoring case. */
  username: string;
  passwordHash: string;
  scopes: string[];
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  /** Access tokens with `iat` (in ms) below this are inactive (SPEC §5 revocation). */
  tokensValidAfter: number;
}

export type NewAccount = Omit<AccountRecord, 'lastLoginAt' | 'tokensValidAfter' | 'updatedAt'>;

export interface AccountPatch {
  passwordHash?: string;
  scopes?: string[];
  disabled?: boolean;
  lastLoginAt?: number;
  tokensValidAfter?: number;
}

/** A session: the family of refresh tokens started by one password login. */
export interface FamilyRecord {
  id: string;
  accountId: string;
  clientId: string;
  scopes: string[];
  /** Seconds, `auth_time` claim: the password login that started the family. */
  authTime: number;
  createdAt: number;
  lastUsedAt: number;
  /** Absolute end of the session. */
  expiresAt: number;
  /** Ends earlier when unused for the idle time. */
  idleExpiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  /** Hash of the family's newest refresh token. */
  currentHash: string;
  /** Hash of the token that the newest one replaced (grace window). */
  previousHash: string | null;
  /** The last refresh response sealed under the previous token; null outside grace. */
  graceResponse: string | null;
  graceUntil: number | null;
  clientIp: string | null;
  userAgent: string | null;
}

export type NewFamily = Omit<FamilyRecord, 'revokedAt' | 'revokedReason' | 'previousHash' | 'graceResponse' | 'graceUntil'>;

export interface RefreshTokenRecord {
  hash: string;
  familyId: string;
  createdAt: number;
  /**
   * The token was rotated (it is no longer its family's current token): a second
   * presentation is reuse.
   */
  used: boolean;
}

export interface RefreshTokenLookup {
  token: RefreshTokenRecord;
  family: FamilyRecord;
  account: AccountRecord | null;
}

export interface RotateInput {
  familyId: string;
  oldHash: string;
  newHash: string;
  now: number;
  idleExpiresAt: number;
  graceResponse: string | null;
  graceUntil: number | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Public JWK, JSON text. */
  publicJwk: string;
  /** Private JWK, JSON text, or sealed with the master key (`sealed:` prefix). */
  privateJwk: string;
  createdAt: number;
  /** Null while active; the newest unretired key signs. */
  retiredAt: number | null;
}

export interface AuditEvent {
  at: number;
  type: string;
  outcome: 'ok' | 'failed' | 'throttled' | 'detected' | 'info';
  username: string | null;
  accountId: string | null;
  clientIp: string | null;
  requestId: string | null;
  /** The admin who acted (CLI: `cli`), if any. */
  actor: string | null;
  /** Small free-form JSON detail; never a secret. */
  detail: Record<string, unknown> | null;
}

export interface AuditFilter {
  username?: string;
  type?: string;
  since?: number;
  until?: number;
  limit?: number;
  offset?: number;
}

export interface ThrottleState {
  count: number;
  windowStart: number;
}

export interface AccountFilter {
  search?: string;
  limit?: number;
  offset?: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Brings the schema up to date (under a lock where nodes share the database). */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the database answers; raises StoreUnavailable otherwise. */
  ping(): Promise<void>;

  /** Small key/value settings made once per store (client id, ...). */
  getMeta(key: string): Promise<string | null>;
  /** Sets the value unless one exists; returns the value that is stored afterwards. */
  setMetaIfAbsent(key: string, value: string): Promise<string>;

  createAccount(account: NewAccount): Promise<AccountRecord>;
  findAccountByUsername(username: string): Promise<AccountRecord | null>;
  findAccountById(id: string): Promise<AccountRecord | null>;
  listAccounts(filter?: AccountFilter): Promise<AccountRecord[]>;
  countAccounts(): Promise<number>;
  /** Returns false when no such account. */
  updateAccount(id: string, patch: AccountPatch, now: number): Promise<boolean>;
  removeAccount(id: string): Promise<boolean>;

  /** Creates a family with its first refresh token. */
  createFamily(family: NewFamily): Promise<void>;
  /** The token with its family and the family's account (null once removed), in one read. */
  findRefreshToken(hash: string): Promise<RefreshTokenLookup | null>;
  /**
   * Atomically marks `oldHash` used and makes `newHash` the family's current token —
   * only if `oldHash` is unused, is the family's current token and the family is not
   * revoked. Of concurrent callers (any node) exactly one gets true.
   */
  rotate(input: RotateInput): Promise<boolean>;
  /** Ends a family; returns false when it had ended already. */
  revokeFamily(familyId: string, now: number, reason: string): Promise<boolean>;
  /** Ends every live family of an account; returns how many. */
  revokeAccountFamilies(accountId: string, now: number, reason: string): Promise<number>;
  listFamilies(accountId: string, now: number): Promise<FamilyRecord[]>;
  findFamily(id: string): Promise<FamilyRecord | null>;

  listKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts `key` as the active key and retires every other active key, in one transaction. */
  addActiveKey(key: SigningKeyRecord): Promise<void>;

  appendAudit(event: AuditEvent): Promise<void>;
  listAudit(filter: AuditFilter): Promise<AuditEvent[]>;

  /**
   * Fixed-window failure counter: adds one failure to each key (a new window starts
   * when the old one is over) and returns the states after the hit, in key order.
   */
  throttleHit(keys: string[], now: number, windowMs: number): Promise<ThrottleState[]>;
  throttleGet(keys: string[]): Promise<(ThrottleState | null)[]>;
  throttleClear(keys: string[]): Promise<void>;
  /** Keys whose window is still running with at least `min` failures. */
  throttleList(now: number, windowMs: number, min: number): Promise<{ key: string; state: ThrottleState }[]>;

  /**
   * Removes ended families (revoked, or past absolute/idle expiry, older than
   * `keepEndedMs`) with their tokens, old throttle rows and audit rows older than
   * `auditRetentionMs`; at most `batch` families per call. Returns rows removed.
   */
  purge(now: number, opts: { batch: number; keepEndedMs: number; auditRetentionMs: number; throttleWindowMs: number }): Promise<number>;
}
