/**
 * PostgreSQL schema, one entry per version; never edit a released entry, add one.
 *
 * The tables and columns mirror the SQLite schema (src/store/sqlite/migrations.ts)
 * so both stores share the row mappers. Times are integer milliseconds (BIGINT);
 * scopes and audit detail are JSON text, read back by the same mappers.
 */
export const postgresMigrations: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    -- "C" collation: byte order like SQLite's BINARY, so paging sorts the same in both stores.
    username_key TEXT COLLATE "C" NOT NULL,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT,
    tokens_valid_after BIGINT NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX accounts_username_key ON accounts (username_key);

  CREATE TABLE families (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT,
    current_hash TEXT NOT NULL,
    previous_hash TEXT,
    grace_response TEXT,
    grace_until BIGINT,
    client_ip TEXT,
    user_agent TEXT
  );
  -- An account's sessions: list, revoke-all, and removeAccount (which needs the ended ones too,
  -- so one full index serves instead of a partial one plus a full one).
  CREATE INDEX families_account ON families (account_id);
  -- purge: one range scan per way a session ends.
  CREATE INDEX families_expiry ON families (expires_at);
  CREATE INDEX families_idle ON families (idle_expires_at);
  CREATE INDEX families_revoked ON families (revoked_at) WHERE revoked_at IS NOT NULL;

  CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
  );
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
  );

  CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    username TEXT,
    account_id TEXT,
    client_ip TEXT,
    request_id TEXT,
    actor TEXT,
    detail TEXT
  );
  CREATE INDEX audit_at ON audit (at);
  -- The username filter ignores case, like SQLite's COLLATE NOCASE index.
  CREATE INDEX audit_username ON audit (lower(username), at);

  CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    window_start BIGINT NOT NULL
  );
  CREATE INDEX throttle_window ON throttle (window_start);
  `,
];
