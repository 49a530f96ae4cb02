import { Client, DatabaseError, Pool } from 'pg';
import type { ClientConfig, PoolClient } from 'pg';
import { StoreUnavailable, UniqueViolation } from '../../core/errors.js';
import type {
  AccountFilter, AccountPatch, AccountRecord, AuditEvent, AuditFilter, FamilyRecord, NewAccount, NewFamily,
  RefreshTokenLookup, RotateInput, SigningKeyRecord, Store, ThrottleState,
} from '../../core/store.js';
// The row shape is shared with SQLite on purpose: same tables, same columns, one mapper.
import { usernameKey } from '../../core/usernames.js';
import { ACCOUNT_COLUMNS_AS_A, accountFromRow, auditFromRow, familyFromRow, keyFromRow, prefixedAccountFromRow } from '../rows.js';
import { postgresMigrations } from './migrations.js';

type Row = Record<string, unknown>;
type Db = Pick<PoolClient, 'query'>;

export interface PostgresStoreOptions {
  /** Connections per node (default 10). */
  poolSize?: number;
  /** Give up connecting (or waiting for a free pooled connection) after this long (default 2000). */
  connectTimeoutMs?: number;
  /** Server-side limit per statement (default 5000); also bounds lock waits. */
  statementTimeoutMs?: number;
  /** Told about errors of idle connections, which are otherwise dropped silently. */
  onIdleError?: (err: Error) => void;
}

/** Serializes migrations of every node on one database (ASCII "rcau"). */
const MIGRATION_LOCK = 0x72636175;
const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;
/** Beyond the server-side limit, so a frozen server or a silent network still fails rather than hangs. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

const num = (v: unknown): number => Number(v);
const throttleFromRow = (r: Row): ThrottleState => ({ count: num(r.count), windowStart: num(r.window_start) });
const noop = (): void => {};

/**
 * True for `postgres://` and `postgresql://` URLs.
 *
 * @example isPostgresUrl('postgres://rcauth@db/rcauth') // true
 */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The shared store: node-postgres with a connection pool. Several nodes use one
 * database; every cross-node guarantee (single-use rotation, throttle counters,
 * one migration at a time) comes from row locks or an advisory lock, never from
 * process memory. Times are BIGINT milliseconds; pg hands int8 back as strings,
 * which the row mappers turn into numbers.
 */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly pool: Pool;
  private readonly connection: ClientConfig;
  private closed = false;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    if (!isPostgresUrl(url)) throw new TypeError('PostgresStore needs a postgres:// or postgresql:// URL');
    checkPositive({ poolSize: opts.poolSize, connectTimeoutMs: opts.connectTimeoutMs, statementTimeoutMs: opts.statementTimeoutMs });
    const statementTimeout = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.connection = {
      connectionString: url,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'rcauth',
    };
    this.pool = new Pool({
      ...this.connection,
      max: opts.poolSize ?? DEFAULT_POOL_SIZE,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + CLIENT_TIMEOUT_MARGIN_MS,
      // A node frozen mid-transaction would otherwise hold its row locks indefinitely.
      idle_in_transaction_session_timeout: statementTimeout * 2,
    });
    // An idle connection that dies (server restart, failover) is dropped by the pool and
    // re-created on demand; without a listener the 'error' event would crash the process.
    this.pool.on('error', opts.onIdleError ?? noop);
    // pg emits 'error' on a checked-out client whose socket dies between two queries;
    // the failing query already reports it, so the event itself must not crash us.
    this.pool.on('connect', (client) => client.on('error', noop));
  }

  /** Runs `fn` on a pooled connection, dropping the connection if it broke. */
  private async withClient<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translate(err);
    }
    try {
      const result = await fn(client);
      client.release();
      return result;
    } catch (err) {
      const mapped = translate(err);
      client.release(mapped instanceof StoreUnavailable ? asError(err) : undefined);
      throw mapped;
    }
  }

  /** Runs `fn` in a transaction; a `false` result or a throw rolls it back. */
  private tx<T>(fn: (db: Db) => Promise<T>, commitIf: (result: T) => boolean = () => true): Promise<T> {
    return this.withClient(async (db) => {
      await db.query('BEGIN');
      let result: T;
      try {
        result = await fn(db);
      } catch (err) {
        await rollback(db, err);
        throw err;
      }
      await db.query(commitIf(result) ? 'COMMIT' : 'ROLLBACK');
      return result;
    });
  }

  private async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.withClient(async (db) => (await db.query<Row>(sql, params)).rows);
  }

  private async row(sql: string, params: unknown[] = []): Promise<Row | null> {
    return (await this.rows(sql, params))[0] ?? null;
  }

  private async changes(sql: string, params: unknown[] = []): Promise<number> {
    return this.withClient(async (db) => (await db.query(sql, params)).rowCount ?? 0);
  }

  /**
   * Applies pending migrations under a transaction-scoped advisory lock, so nodes
   * starting together queue up and each sees the schema the first one built. It
   * uses its own connection without the pool's timeouts: waiting for another
   * node's migration, or building an index on a large table, may take a while.
   */
  async migrate(): Promise<void> {
    const client = new Client(this.connection);
    client.on('error', noop);
    try {
      await client.connect();
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const { rows } = await client.query<Row>('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version');
      for (let v = num(rows[0]?.v); v < postgresMigrations.length; v++) {
        await client.query(postgresMigrations[v]!);
        await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await rollback(client, err).catch(noop);
      throw translate(err);
    } finally {
      await client.end().catch(noop);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.rows('SELECT 1');
  }

  async getMeta(key: string): Promise<string | null> {
    const r = await this.row('SELECT value FROM meta WHERE key = $1', [key]);
    return r ? String(r.value) : null;
  }

  setMetaIfAbsent(key: string, value: string): Promise<string> {
    return this.withClient(async (db) => {
      const inserted = await db.query<Row>(
        'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value', [key, value]);
      if (inserted.rows[0]) return String(inserted.rows[0].value);
      // A separate statement: its fresh snapshot sees the row a concurrent winner committed.
      const existing = await db.query<Row>('SELECT value FROM meta WHERE key = $1', [key]);
      return String(existing.rows[0]!.value);
    });
  }

  async createAccount(a: NewAccount): Promise<AccountRecord> {
    await this.changes(
      `INSERT INTO accounts (id, username, username_key, password_hash, scopes, disabled, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [a.id, a.username, usernameKey(a.username), a.passwordHash, JSON.stringify(a.scopes), a.disabled, a.createdAt],
    );
    return { ...a, updatedAt: a.createdAt, lastLoginAt: null, tokensValidAfter: 0 };
  }

  async findAccountByUsername(username: string): Promise<AccountRecord | null> {
    const r = await this.row('SELECT * FROM accounts WHERE username_key = $1', [usernameKey(username)]);
    return r ? accountFromRow(r) : null;
  }

  async findAccountById(id: string): Promise<AccountRecord | null> {
    const r = await this.row('SELECT * FROM accounts WHERE id = $1', [id]);
    return r ? accountFromRow(r) : null;
  }

  async listAccounts(filter: AccountFilter = {}): Promise<AccountRecord[]> {
    const search = filter.search ? `%${usernameKey(filter.search).replace(/[\\%_]/g, (c) => `\\${c}`)}%` : '%';
    const rows = await this.rows(
      `SELECT * FROM accounts WHERE username_key LIKE $1 ESCAPE '\\' ORDER BY username_key LIMIT $2 OFFSET $3`,
      [search, filter.limit ?? null, filter.offset ?? 0],
    );
    return rows.map(accountFromRow);
  }

  async countAccounts(): Promise<number> {
    return num((await this.row('SELECT COUNT(*) AS n FROM accounts'))!.n);
  }

  async updateAccount(id: string, patch: AccountPatch, now: number): Promise<boolean> {
    const sets: string[] = [];
    const args: unknown[] = [id, now];
    const set = (column: string, value: unknown, expr = (p: string) => p): void => {
      args.push(value);
      sets.push(`${column} = ${expr(`$${args.length}`)}`);
    };
    if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash);
    if (patch.scopes !== undefined) set('scopes', JSON.stringify(patch.scopes));
    if (patch.disabled !== undefined) set('disabled', patch.disabled);
    if (patch.lastLoginAt !== undefined) set('last_login_at', patch.lastLoginAt);
    // Revocation only moves forward: an older cut-off must never revive tokens.
    if (patch.tokensValidAfter !== undefined) set('tokens_valid_after', patch.tokensValidAfter, (p) => `GREATEST(tokens_valid_after, ${p})`);
    const sql = `UPDATE accounts SET ${['updated_at = $2', ...sets].join(', ')} WHERE id = $1`;
    return (await this.changes(sql, args)) === 1;
  }

  removeAccount(id: string): Promise<boolean> {
    return this.tx(async (db) => {
      await db.query('DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM families WHERE account_id = $1)', [id]);
      await db.query('DELETE FROM families WHERE account_id = $1', [id]);
      return (await db.query('DELETE FROM accounts WHERE id = $1', [id])).rowCount === 1;
    });
  }

  async createFamily(f: NewFamily): Promise<void> {
    await this.tx(async (db) => {
      await db.query(
        `INSERT INTO families (id, account_id, client_id, scopes, auth_time, created_at, last_used_at, expires_at,
           idle_expires_at, current_hash, client_ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [f.id, f.accountId, f.clientId, JSON.stringify(f.scopes), f.authTime, f.createdAt, f.lastUsedAt, f.expiresAt,
          f.idleExpiresAt, f.currentHash, f.clientIp, f.userAgent],
      );
      await db.query('INSERT INTO refresh_tokens (hash, family_id, created_at) VALUES ($1, $2, $3)', [f.currentHash, f.id, f.createdAt]);
    });
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenLookup | null> {
    // One round trip for the whole read side of a refresh: token, family and account.
    const r = await this.row(
      `SELECT f.*, t.hash AS token_hash, t.created_at AS token_created_at, t.used_at AS token_used_at, ${ACCOUNT_COLUMNS_AS_A}
       FROM refresh_tokens t JOIN families f ON f.id = t.family_id LEFT JOIN accounts a ON a.id = f.account_id
       WHERE t.hash = $1`,
      [hash],
    );
    if (!r) return null;
    return {
      token: { hash: String(r.token_hash), familyId: String(r.id), createdAt: num(r.token_created_at), used: r.token_used_at !== null },
      family: familyFromRow(r),
      account: prefixedAccountFromRow(r),
    };
  }

  /**
   * Marking the old token used takes its row lock: a concurrent caller (any node)
   * blocks on it and, once the winner commits, re-checks `used_at IS NULL` and
   * matches nothing. If the family moved on or ended, the mark is rolled back.
   */
  rotate(r: RotateInput): Promise<boolean> {
    return this.tx(async (db) => {
      const marked = await db.query(
        'UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND family_id = $3 AND used_at IS NULL',
        [r.now, r.oldHash, r.familyId],
      );
      if (marked.rowCount !== 1) return false;
      const moved = await db.query(
        `UPDATE families SET current_hash = $1, previous_hash = $2, last_used_at = $3, idle_expires_at = $4,
           grace_response = $5, grace_until = $6
         WHERE id = $7 AND current_hash = $2 AND revoked_at IS NULL`,
        [r.newHash, r.oldHash, r.now, r.idleExpiresAt, r.graceResponse, r.graceUntil, r.familyId],
      );
      if (moved.rowCount !== 1) return false;
      await db.query('INSERT INTO refresh_tokens (hash, family_id, created_at) VALUES ($1, $2, $3)', [r.newHash, r.familyId, r.now]);
      return true;
    }, (won) => won);
  }

  async revokeFamily(familyId: string, now: number, reason: string): Promise<boolean> {
    const n = await this.changes(
      `UPDATE families SET revoked_at = $1, revoked_reason = $2, grace_response = NULL, grace_until = NULL
       WHERE id = $3 AND revoked_at IS NULL`,
      [now, reason, familyId],
    );
    return n === 1;
  }

  revokeAccountFamilies(accountId: string, now: number, reason: string): Promise<number> {
    return this.changes(
      `UPDATE families SET revoked_at = $1, revoked_reason = $2, grace_response = NULL, grace_until = NULL
       WHERE account_id = $3 AND revoked_at IS NULL`,
      [now, reason, accountId],
    );
  }

  async listFamilies(accountId: string, now: number): Promise<FamilyRecord[]> {
    const rows = await this.rows(
      `SELECT * FROM families WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2
       ORDER BY created_at DESC`,
      [accountId, now],
    );
    return rows.map(familyFromRow);
  }

  async findFamily(id: string): Promise<FamilyRecord | null> {
    const r = await this.row('SELECT * FROM families WHERE id = $1', [id]);
    return r ? familyFromRow(r) : null;
  }

  async listKeys(): Promise<SigningKeyRecord[]> {
    return (await this.rows('SELECT * FROM signing_keys ORDER BY created_at DESC, kid')).map(keyFromRow);
  }

  async addActiveKey(k: SigningKeyRecord): Promise<void> {
    await this.tx(async (db) => {
      // Two nodes rotating at once must not both leave an active key behind; readers are not blocked.
      await db.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE');
      await db.query('UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL', [k.createdAt]);
      await db.query(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, NULL)',
        [k.kid, k.alg, k.publicJwk, k.privateJwk, k.createdAt],
      );
    });
  }

  async appendAudit(e: AuditEvent): Promise<void> {
    await this.changes(
      `INSERT INTO audit (at, type, outcome, username, account_id, client_ip, request_id, actor, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [e.at, e.type, e.outcome, e.username, e.accountId, e.clientIp, e.requestId, e.actor, e.detail ? JSON.stringify(e.detail) : null],
    );
  }

  async listAudit(f: AuditFilter): Promise<AuditEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown): void => {
      args.push(value);
      where.push(clause(`$${args.length}`));
    };
    if (f.username !== undefined) add((p) => `lower(username) = lower(${p})`, f.username);
    if (f.type !== undefined) add((p) => `type = ${p}`, f.type);
    if (f.since !== undefined) add((p) => `at >= ${p}`, f.since);
    if (f.until !== undefined) add((p) => `at < ${p}`, f.until);
    args.push(f.limit ?? 100, f.offset ?? 0);
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at DESC, id DESC LIMIT $${args.length - 1} OFFSET $${args.length}`;
    return (await this.rows(sql, args)).map(auditFromRow);
  }

  /**
   * One upsert per key: the row lock makes concurrent hits from every node add up.
   * Keys are locked in sorted order so two callers passing the same keys in a
   * different order cannot deadlock; results come back in the caller's order.
   */
  throttleHit(keys: string[], now: number, windowMs: number): Promise<ThrottleState[]> {
    const order = keys.map((key, i) => ({ key, i })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
    return this.tx(async (db) => {
      const states: ThrottleState[] = new Array<ThrottleState>(keys.length);
      for (const { key, i } of order) {
        const { rows } = await db.query<Row>(
          `INSERT INTO throttle (key, count, window_start) VALUES ($1, 1, $2)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN throttle.window_start <= $3 THEN 1 ELSE throttle.count + 1 END,
             window_start = CASE WHEN throttle.window_start <= $3 THEN excluded.window_start ELSE throttle.window_start END
           RETURNING count, window_start`,
          [key, now, now - windowMs],
        );
        states[i] = throttleFromRow(rows[0]!);
      }
      return states;
    });
  }

  async throttleGet(keys: string[]): Promise<(ThrottleState | null)[]> {
    const rows = await this.rows('SELECT key, count, window_start FROM throttle WHERE key = ANY($1)', [keys]);
    const byKey = new Map(rows.map((r) => [String(r.key), throttleFromRow(r)]));
    return keys.map((key) => byKey.get(key) ?? null);
  }

  async throttleClear(keys: string[]): Promise<void> {
    await this.changes('DELETE FROM throttle WHERE key = ANY($1)', [keys]);
  }

  async throttleList(now: number, windowMs: number, min: number): Promise<{ key: string; state: ThrottleState }[]> {
    const rows = await this.rows(
      'SELECT key, count, window_start FROM throttle WHERE window_start > $1 AND count >= $2 ORDER BY window_start DESC LIMIT 1000',
      [now - windowMs, min],
    );
    return rows.map((r) => ({ key: String(r.key), state: throttleFromRow(r) }));
  }

  /**
   * Bounded batches keep each transaction short on a shared database. SKIP LOCKED
   * lets purges on several nodes take disjoint batches instead of queueing.
   */
  purge(now: number, o: { batch: number; keepEndedMs: number; auditRetentionMs: number; throttleWindowMs: number }): Promise<number> {
    const cutoff = now - o.keepEndedMs;
    return this.tx(async (db) => {
      const { rows } = await db.query<Row>(
        `SELECT id FROM families WHERE expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1
         LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cutoff, o.batch],
      );
      const ids = rows.map((r) => String(r.id));
      const count = async (sql: string, params: unknown[]): Promise<number> => (await db.query(sql, params)).rowCount ?? 0;
      let removed = 0;
      if (ids.length > 0) {
        removed += await count('DELETE FROM refresh_tokens WHERE family_id = ANY($1)', [ids]);
        removed += await count('DELETE FROM families WHERE id = ANY($1)', [ids]);
      }
      removed += await count(
        'DELETE FROM throttle WHERE key IN (SELECT key FROM throttle WHERE window_start < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)',
        [now - o.throttleWindowMs, o.batch],
      );
      removed += await count(
        'DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)',
        [now - o.auditRetentionMs, o.batch],
      );
      return removed;
    });
  }
}

/** SQLSTATE classes and codes that mean "the database is not there right now", not "the request is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)|^25006$/;
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);
/** node-postgres reports these without a code. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|Cannot use a pool after calling end/i;

/**
 * Maps driver errors onto the store contract: unreachable database (refused or
 * reset connection, admin shutdown, starting up, statement timeout, resource
 * exhaustion, read-only standby) → StoreUnavailable; 23505 → UniqueViolation;
 * anything else (a bug) is passed through unchanged.
 */
function translate(err: unknown): unknown {
  if (err instanceof StoreUnavailable || err instanceof UniqueViolation) return err;
  if (err instanceof DatabaseError) {
    if (err.code === '23505') return new UniqueViolation('unique violation', { cause: err });
    if (err.code && UNAVAILABLE_SQLSTATE.test(err.code)) return new StoreUnavailable('PostgreSQL store unavailable', { cause: err });
    return err;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_NODE_CODES.has(code)) {
    return new StoreUnavailable('PostgreSQL store unavailable', { cause: err });
  }
  if (err instanceof AggregateError && err.errors.some((e) => translate(e) instanceof StoreUnavailable)) {
    // Node reports a refused connection to every address of a host as one AggregateError.
    return new StoreUnavailable('PostgreSQL store unavailable', { cause: err });
  }
  if (err instanceof Error && UNAVAILABLE_MESSAGES.test(err.message)) {
    return new StoreUnavailable('PostgreSQL store unavailable', { cause: err });
  }
  return err;
}

/**
 * Ends a failed transaction. A broken connection is skipped: the server rolls back
 * when the session ends. A failed ROLLBACK means the connection is broken too, and
 * raising StoreUnavailable makes withClient discard it instead of pooling it.
 */
async function rollback(db: Db, cause: unknown): Promise<void> {
  if (translate(cause) instanceof StoreUnavailable) return;
  try {
    await db.query('ROLLBACK');
  } catch (err) {
    throw new StoreUnavailable('PostgreSQL store unavailable', { cause: err });
  }
}

/** Zero would mean "no limit" to pg and PostgreSQL: a hang is exactly what the limits are for. */
function checkPositive(values: Record<string, number | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new TypeError(`PostgresStore option ${name} must be a positive integer, got ${value}`);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
