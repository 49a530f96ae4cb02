import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreUnavailable, UniqueViolation } from '../../core/errors.js';
import { usernameKey } from '../../core/usernames.js';
import type {
  AccountFilter, AccountPatch, AccountRecord, AuditEvent, AuditFilter, FamilyRecord, NewAccount, NewFamily,
  RefreshTokenLookup, RotateInput, SigningKeyRecord, Store, ThrottleState,
} from '../../core/store.js';
import { ACCOUNT_COLUMNS_AS_A, accountFromRow, auditFromRow, familyFromRow, keyFromRow, num, prefixedAccountFromRow, type Row } from '../rows.js';
import { sqliteMigrations } from './migrations.js';

export { usernameKey };

export interface SqliteOptions {
  /**
   * `normal` (default): in WAL mode a committed transaction is in the WAL file
   * before the answer goes out, so it survives any crash of the process (SPEC §8);
   * only an OS crash or power loss can lose the last commits. `full` fsyncs every
   * commit and survives those too, at several times the cost per write.
   */
  synchronous?: 'normal' | 'full';
}

/**
 * The embedded store: better-sqlite3 in WAL mode. Writes take the database lock
 * at BEGIN (IMMEDIATE), so several processes on one file serialize instead of
 * failing half-way.
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  /**
   * One transaction wrapper for every write, taking the work as its argument:
   * better-sqlite3 builds a wrapper (several closures) per `transaction()` call,
   * which the hot path would otherwise pay on every refresh.
   */
  private readonly inTransaction: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(readonly file: string, options: SqliteOptions = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      this.db = new Database(file, { timeout: 5000 });
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      // Every refresh rewrites a few pages; checkpointing every 4,000 pages rather than
      // SQLite's 1,000 copies each hot page (a family's row, an index's right edge) to
      // the database once per checkpoint instead of four times. The WAL stays ≤ ~16 MiB.
      this.db.pragma('wal_autocheckpoint = 4000');
      // Up to 32 MiB of page cache (SQLite's default is 2 MiB), so the index pages a
      // refresh touches stay in memory; it grows only as pages are read.
      this.db.pragma('cache_size = -32768');
    } catch (err) {
      throw new StoreUnavailable(`cannot open SQLite database ${file}`, { cause: err });
    }
    this.inTransaction = this.db.transaction((fn: () => unknown) => fn());
  }

  private st(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(translate(err));
    }
  }

  private tx<T>(fn: () => T): T {
    return this.inTransaction.immediate(fn) as T;
  }

  async migrate(): Promise<void> {
    await this.run(() => {
      this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      this.tx(() => {
        const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as Row;
        const current = row?.v === null || row?.v === undefined ? 0 : Number(row.v);
        for (let v = current; v < sqliteMigrations.length; v++) {
          this.db.exec(sqliteMigrations[v]!);
          this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(v + 1);
        }
      });
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  ping(): Promise<void> {
    return this.run(() => {
      this.st('SELECT 1').get();
    });
  }

  getMeta(key: string): Promise<string | null> {
    return this.run(() => {
      const r = this.st('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
      return r ? String(r.value) : null;
    });
  }

  setMetaIfAbsent(key: string, value: string): Promise<string> {
    return this.run(() => {
      this.st('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
      return String((this.st('SELECT value FROM meta WHERE key = ?').get(key) as Row).value);
    });
  }

  createAccount(a: NewAccount): Promise<AccountRecord> {
    return this.run(() => {
      this.st(
        `INSERT INTO accounts (id, username, username_key, password_hash, scopes, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(a.id, a.username, usernameKey(a.username), a.passwordHash, JSON.stringify(a.scopes), a.disabled ? 1 : 0, a.createdAt, a.createdAt);
      return { ...a, updatedAt: a.createdAt, lastLoginAt: null, tokensValidAfter: 0 };
    });
  }

  findAccountByUsername(username: string): Promise<AccountRecord | null> {
    return this.run(() => {
      const r = this.st('SELECT * FROM accounts WHERE username_key = ?').get(usernameKey(username)) as Row | undefined;
      return r ? accountFromRow(r) : null;
    });
  }

  findAccountById(id: string): Promise<AccountRecord | null> {
    return this.run(() => {
      const r = this.st('SELECT * FROM accounts WHERE id = ?').get(id) as Row | undefined;
      return r ? accountFromRow(r) : null;
    });
  }

  listAccounts(filter: AccountFilter = {}): Promise<AccountRecord[]> {
    return this.run(() => {
      const search = filter.search ? `%${usernameKey(filter.search).replace(/[\\%_]/g, (c) => `\\${c}`)}%` : '%';
      const rows = this.st(
        `SELECT * FROM accounts WHERE username_key LIKE ? ESCAPE '\\' ORDER BY username_key LIMIT ? OFFSET ?`,
      ).all(search, filter.limit ?? -1, filter.offset ?? 0) as Row[];
      return rows.map(accountFromRow);
    });
  }

  countAccounts(): Promise<number> {
    return this.run(() => num((this.st('SELECT COUNT(*) AS n FROM accounts').get() as Row).n));
  }

  updateAccount(id: string, patch: AccountPatch, now: number): Promise<boolean> {
    return this.run(() => {
      const sets: string[] = ['updated_at = ?'];
      const args: unknown[] = [now];
      if (patch.passwordHash !== undefined) { sets.push('password_hash = ?'); args.push(patch.passwordHash); }
      if (patch.scopes !== undefined) { sets.push('scopes = ?'); args.push(JSON.stringify(patch.scopes)); }
      if (patch.disabled !== undefined) { sets.push('disabled = ?'); args.push(patch.disabled ? 1 : 0); }
      if (patch.lastLoginAt !== undefined) { sets.push('last_login_at = ?'); args.push(patch.lastLoginAt); }
      if (patch.tokensValidAfter !== undefined) {
        sets.push('tokens_valid_after = MAX(tokens_valid_after, ?)');
        args.push(patch.tokensValidAfter);
      }
      args.push(id);
      return this.st(`UPDATE accounts SET ${sets.join(', ')} WHERE id = ?`).run(...args).changes === 1;
    });
  }

  removeAccount(id: string): Promise<boolean> {
    return this.run(() =>
      this.tx(() => {
        this.st('DELETE FROM refresh_tokens WHERE family_id IN (SELECT id FROM families WHERE account_id = ?)').run(id);
        this.st('DELETE FROM families WHERE account_id = ?').run(id);
        return this.st('DELETE FROM accounts WHERE id = ?').run(id).changes === 1;
      }),
    );
  }

  createFamily(f: NewFamily): Promise<void> {
    return this.run(() =>
      this.tx(() => {
        this.st(
          `INSERT INTO families (id, account_id, client_id, scopes, auth_time, created_at, last_used_at, expires_at,
             idle_expires_at, current_hash, client_ip, user_agent)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(f.id, f.accountId, f.clientId, JSON.stringify(f.scopes), f.authTime, f.createdAt, f.lastUsedAt, f.expiresAt,
          f.idleExpiresAt, f.currentHash, f.clientIp, f.userAgent);
        this.st('INSERT INTO refresh_tokens (hash, family_id, created_at) VALUES (?, ?, ?)').run(f.currentHash, f.id, f.createdAt);
      }),
    );
  }

  findRefreshToken(hash: string): Promise<RefreshTokenLookup | null> {
    return this.run(() => {
      // One probe of the token's primary key, joined to its family and account: the whole read side of a refresh.
      const r = this.st(
        `SELECT f.*, t.hash AS t_hash, t.created_at AS t_created_at, t.hash <> f.current_hash AS t_used, ${ACCOUNT_COLUMNS_AS_A}
         FROM refresh_tokens t JOIN families f ON f.id = t.family_id LEFT JOIN accounts a ON a.id = f.account_id
         WHERE t.hash = ?`,
      ).get(hash) as Row | undefined;
      if (!r) return null;
      return {
        token: { hash: String(r.t_hash), familyId: String(r.id), createdAt: num(r.t_created_at), used: r.t_used === 1 },
        family: familyFromRow(r),
        account: prefixedAccountFromRow(r),
      };
    });
  }

  rotate(r: RotateInput): Promise<boolean> {
    return this.run(() =>
      this.tx(() => {
        // The family's current_hash is the one mark of which token is live (a token is
        // used once it is not current), so a rotation writes the family row and the new
        // token only: one page fewer per refresh than also stamping the old token's row.
        // BEGIN IMMEDIATE serializes writers, and the WHERE re-checks current_hash under
        // that lock: of two rotations of one token, only the first matches.
        const moved = this.st(
          `UPDATE families SET current_hash = ?, previous_hash = ?, last_used_at = ?, idle_expires_at = ?,
             grace_response = ?, grace_until = ?
           WHERE id = ? AND current_hash = ? AND revoked_at IS NULL`,
        ).run(r.newHash, r.oldHash, r.now, r.idleExpiresAt, r.graceResponse, r.graceUntil, r.familyId, r.oldHash).changes;
        if (moved !== 1) return false;
        this.st('INSERT INTO refresh_tokens (hash, family_id, created_at) VALUES (?, ?, ?)').run(r.newHash, r.familyId, r.now);
        return true;
      }),
    );
  }

  revokeFamily(familyId: string, now: number, reason: string): Promise<boolean> {
    return this.run(() =>
      this.st(
        'UPDATE families SET revoked_at = ?, revoked_reason = ?, grace_response = NULL, grace_until = NULL WHERE id = ? AND revoked_at IS NULL',
      ).run(now, reason, familyId).changes === 1,
    );
  }

  revokeAccountFamilies(accountId: string, now: number, reason: string): Promise<number> {
    return this.run(() =>
      this.st(
        'UPDATE families SET revoked_at = ?, revoked_reason = ?, grace_response = NULL, grace_until = NULL WHERE account_id = ? AND revoked_at IS NULL',
      ).run(now, reason, accountId).changes,
    );
  }

  listFamilies(accountId: string, now: number): Promise<FamilyRecord[]> {
    return this.run(() =>
      (this.st(
        `SELECT * FROM families WHERE account_id = ? AND revoked_at IS NULL AND expires_at > ? AND idle_expires_at > ?
         ORDER BY created_at DESC`,
      ).all(accountId, now, now) as Row[]).map(familyFromRow),
    );
  }

  findFamily(id: string): Promise<FamilyRecord | null> {
    return this.run(() => {
      const r = this.st('SELECT * FROM families WHERE id = ?').get(id) as Row | undefined;
      return r ? familyFromRow(r) : null;
    });
  }

  listKeys(): Promise<SigningKeyRecord[]> {
    return this.run(() => (this.st('SELECT * FROM signing_keys ORDER BY created_at DESC, kid').all() as Row[]).map(keyFromRow));
  }

  addActiveKey(k: SigningKeyRecord): Promise<void> {
    return this.run(() =>
      this.tx(() => {
        this.st('UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL').run(k.createdAt);
        this.st('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)')
          .run(k.kid, k.alg, k.publicJwk, k.privateJwk, k.createdAt);
      }),
    );
  }

  appendAudit(e: AuditEvent): Promise<void> {
    return this.run(() => {
      this.st(
        `INSERT INTO audit (at, type, outcome, username, account_id, client_ip, request_id, actor, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(e.at, e.type, e.outcome, e.username, e.accountId, e.clientIp, e.requestId, e.actor, e.detail ? JSON.stringify(e.detail) : null);
    });
  }

  listAudit(f: AuditFilter): Promise<AuditEvent[]> {
    return this.run(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (f.username !== undefined) { where.push('username = ? COLLATE NOCASE'); args.push(f.username); }
      if (f.type !== undefined) { where.push('type = ?'); args.push(f.type); }
      if (f.since !== undefined) { where.push('at >= ?'); args.push(f.since); }
      if (f.until !== undefined) { where.push('at < ?'); args.push(f.until); }
      args.push(f.limit ?? 100, f.offset ?? 0);
      const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`;
      return (this.st(sql).all(...args) as Row[]).map(auditFromRow);
    });
  }

  throttleHit(keys: string[], now: number, windowMs: number): Promise<ThrottleState[]> {
    return this.run(() =>
      this.tx(() =>
        keys.map((key) => {
          const r = this.st(
            `INSERT INTO throttle (key, count, window_start) VALUES (?, 1, ?)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN throttle.window_start <= ? THEN 1 ELSE throttle.count + 1 END,
               window_start = CASE WHEN throttle.window_start <= ? THEN excluded.window_start ELSE throttle.window_start END
             RETURNING count, window_start`,
          ).get(key, now, now - windowMs, now - windowMs) as Row;
          return { count: num(r.count), windowStart: num(r.window_start) };
        }),
      ),
    );
  }

  throttleGet(keys: string[]): Promise<(ThrottleState | null)[]> {
    return this.run(() =>
      keys.map((key) => {
        const r = this.st('SELECT count, window_start FROM throttle WHERE key = ?').get(key) as Row | undefined;
        return r ? { count: num(r.count), windowStart: num(r.window_start) } : null;
      }),
    );
  }

  throttleClear(keys: string[]): Promise<void> {
    return this.run(() => {
      for (const key of keys) this.st('DELETE FROM throttle WHERE key = ?').run(key);
    });
  }

  throttleList(now: number, windowMs: number, min: number): Promise<{ key: string; state: ThrottleState }[]> {
    return this.run(() =>
      (this.st('SELECT key, count, window_start FROM throttle WHERE window_start > ? AND count >= ? ORDER BY window_start DESC LIMIT 1000')
        .all(now - windowMs, min) as Row[])
        .map((r) => ({ key: String(r.key), state: { count: num(r.count), windowStart: num(r.window_start) } })),
    );
  }

  purge(now: number, o: { batch: number; keepEndedMs: number; auditRetentionMs: number; throttleWindowMs: number }): Promise<number> {
    return this.run(() =>
      this.tx(() => {
        const cutoff = now - o.keepEndedMs;
        const ids = (this.st(
          `SELECT id FROM families WHERE expires_at < ? UNION SELECT id FROM families WHERE idle_expires_at < ?
           UNION SELECT id FROM families WHERE revoked_at < ? LIMIT ?`,
        ).all(cutoff, cutoff, cutoff, o.batch) as Row[]).map((r) => String(r.id));
        let removed = 0;
        for (const id of ids) {
          removed += this.st('DELETE FROM refresh_tokens WHERE family_id = ?').run(id).changes;
          removed += this.st('DELETE FROM families WHERE id = ?').run(id).changes;
        }
        removed += this.st('DELETE FROM throttle WHERE window_start < ?').run(now - o.throttleWindowMs).changes;
        removed += this.st('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? LIMIT ?)')
          .run(now - o.auditRetentionMs, o.batch).changes;
        return removed;
      }),
    );
  }
}

function translate(err: unknown): unknown {
  const code = (err as { code?: string })?.code ?? '';
  if (code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new UniqueViolation('unique violation', { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR') ||
      code === 'SQLITE_FULL' || code === 'SQLITE_READONLY' || (err instanceof TypeError && /database connection is not open/.test(err.message))) {
    return new StoreUnavailable('SQLite store unavailable', { cause: err });
  }
  return err;
}
