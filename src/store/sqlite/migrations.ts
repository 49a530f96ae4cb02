/** SQLite schema, one entry per version; never edit a released entry, add one. */
export const sqliteMigrations: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_login_at INTEGER,
    tokens_valid_after INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE families (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT,
    current_hash TEXT NOT NULL,
    previous_hash TEXT,
    grace_response TEXT,
    grace_until INTEGER,
    client_ip TEXT,
    user_agent TEXT
  );
  CREATE INDEX families_account ON families (account_id);
  CREATE INDEX families_expiry ON families (expires_at);
  CREATE INDEX families_idle ON families (idle_expires_at);
  CREATE INDEX families_revoked ON families (revoked_at) WHERE revoked_at IS NOT NULL;
  CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
  );
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
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
  CREATE INDEX audit_username ON audit (username COLLATE NOCASE, at);
  CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    window_start INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX throttle_window ON throttle (window_start);
  `,
];
