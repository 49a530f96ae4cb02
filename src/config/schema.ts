/**
 * The one configuration schema. Every setting has a flag, an RCAUTH_* variable,
 * a default and a check; `loadConfig` resolves flag > environment > default,
 * validates everything before the server listens, and freezes the result.
 * docs/configuration.md is generated from this table (`npm run docs:config`).
 */

export type SettingType = 'string' | 'int' | 'bool' | 'list' | 'enum';

export interface Setting<K extends string = string> {
  key: K;
  flag: string;
  env: string;
  type: SettingType;
  default: string | number | boolean | string[];
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Extra check; returns an error message or null. */
  check?: (value: unknown) => string | null;
  /** Only for `serve` (other commands ignore it). */
  serveOnly?: boolean;
  /** Never printed (secrets). */
  secret?: boolean;
}

const urlCheck = (v: unknown): string | null => {
  if (v === '') return null;
  try {
    const u = new URL(String(v));
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http(s) URL';
  } catch {
    return 'must be a URL';
  }
};

const upstreamCheck = (v: unknown): string | null => {
  const problem = urlCheck(v);
  if (problem || v === '') return problem;
  const u = new URL(String(v));
  return u.username || u.password || u.search || u.hash ? 'must be scheme://host[:port][/path], without credentials, query or fragment' : null;
};

const dbUrlCheck = (v: unknown): string | null => {
  if (v === '') return null;
  return /^(postgres|postgresql):\/\//.test(String(v)) || /^sqlite:/.test(String(v))
    ? null
    : 'must be postgres://…, postgresql://… or sqlite:PATH';
};

export const settings = [
  { key: 'host', flag: '--host', env: 'RCAUTH_HOST', type: 'string', default: '127.0.0.1', description: 'Address to listen on.', serveOnly: true },
  { key: 'port', flag: '--port', env: 'RCAUTH_PORT', type: 'int', default: 8080, min: 0, max: 65535, description: 'TCP port to listen on (0 picks a free one).', serveOnly: true },
  { key: 'dataDir', flag: '--data-dir', env: 'RCAUTH_DATA_DIR', type: 'string', default: './data', description: 'Folder for rcauth.db and initial-admin-password (SQLite store).' },
  { key: 'databaseUrl', flag: '--database-url', env: 'RCAUTH_DATABASE_URL', type: 'string', default: '', check: dbUrlCheck, secret: true, description: 'postgres://… to share one PostgreSQL between nodes; empty: SQLite in the data dir.' },
  { key: 'sqliteSynchronous', flag: '--sqlite-synchronous', env: 'RCAUTH_SQLITE_SYNCHRONOUS', type: 'enum', values: ['normal', 'full'], default: 'normal', description: 'SQLite durability: normal survives any process crash; full also an OS crash or power loss (slower writes).' },
  { key: 'issuer', flag: '--issuer', env: 'RCAUTH_ISSUER', type: 'string', default: '', check: urlCheck, description: 'The `iss` claim and metadata issuer. Empty: http://HOST:PORT as reached. Set it in production.' },
  { key: 'audience', flag: '--audience', env: 'RCAUTH_AUDIENCE', type: 'string', default: 'api://default', description: 'The `aud` claim.' },
  { key: 'accessTtl', flag: '--access-ttl', env: 'RCAUTH_ACCESS_TTL', type: 'int', default: 3600, min: 10, max: 86400, description: 'Access token lifetime, seconds (`expires_in`).' },
  { key: 'refreshTtl', flag: '--refresh-ttl', env: 'RCAUTH_REFRESH_TTL', type: 'int', default: 2592000, min: 60, max: 31536000, description: 'Absolute session lifetime, seconds (default 30 days).' },
  { key: 'refreshIdleTtl', flag: '--refresh-idle-ttl', env: 'RCAUTH_REFRESH_IDLE_TTL', type: 'int', default: 604800, min: 60, max: 31536000, description: 'A session ends when unused this long, seconds (default 7 days).' },
  { key: 'refreshGrace', flag: '--refresh-grace', env: 'RCAUTH_REFRESH_GRACE', type: 'int', default: 0, min: 0, max: 60, description: 'Seconds in which the direct predecessor of a refresh token gets the identical response again (lost responses, retries).' },
  { key: 'clientId', flag: '--client-id', env: 'RCAUTH_CLIENT_ID', type: 'string', default: '', description: 'The `cid` claim. Empty: a stable id created with the store.' },
  { key: 'clients', flag: '--clients', env: 'RCAUTH_CLIENTS', type: 'list', default: [], description: 'Registered client ids; a request\'s client_id naming one of them becomes `cid`.' },
  { key: 'versions', flag: '--versions', env: 'RCAUTH_VERSIONS', type: 'list', default: ['v130', 'v140', 'v150'], check: (v) => ((v as string[]).every((s) => /^v\d{1,4}$/.test(s)) && (v as string[]).length > 0 ? null : 'must be a comma-separated list like v130,v140'), description: 'API versions served at /api/{version}/auth.' },
  { key: 'tokenProfile', flag: '--token-profile', env: 'RCAUTH_TOKEN_PROFILE', type: 'enum', values: ['recoveryconnect', 'rfc9068'], default: 'recoveryconnect', description: 'recoveryconnect: exactly the documented claims; rfc9068: adds typ at+jwt, client_id and scope.' },
  { key: 'signingAlg', flag: '--signing-alg', env: 'RCAUTH_SIGNING_ALG', type: 'enum', values: ['RS256', 'ES256'], default: 'RS256', description: 'Algorithm of newly made signing keys.' },
  { key: 'masterKey', flag: '--master-key', env: 'RCAUTH_MASTER_KEY', type: 'string', default: '', secret: true, check: (v) => (v === '' || String(v).length >= 32 ? null : 'must be at least 32 characters'), description: 'Encrypts private signing keys in the store (AES-256-GCM). Every node must share it.' },
  { key: 'trustProxy', flag: '--trust-proxy', env: 'RCAUTH_TRUST_PROXY', type: 'bool', default: false, serveOnly: true, description: 'Take the client IP from X-Forwarded-For (only behind a proxy you run).' },
  { key: 'upstream', flag: '--upstream', env: 'RCAUTH_UPSTREAM', type: 'string', default: '', check: upstreamCheck, serveOnly: true, description: 'Gateway mode: proxy every other route to this URL after checking the bearer token.' },
  { key: 'upstreamTimeout', flag: '--upstream-timeout', env: 'RCAUTH_UPSTREAM_TIMEOUT', type: 'int', default: 30, min: 1, max: 3600, serveOnly: true, description: 'Seconds before a slow upstream gets 504.' },
  { key: 'tlsCert', flag: '--tls-cert', env: 'RCAUTH_TLS_CERT', type: 'string', default: '', serveOnly: true, description: 'PEM certificate file; with --tls-key serves HTTPS.' },
  { key: 'tlsKey', flag: '--tls-key', env: 'RCAUTH_TLS_KEY', type: 'string', default: '', serveOnly: true, description: 'PEM private key file.' },
  { key: 'logLevel', flag: '--log-level', env: 'RCAUTH_LOG_LEVEL', type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Log level (JSON logs on stdout).' },
  { key: 'passwordMinLength', flag: '--password-min-length', env: 'RCAUTH_PASSWORD_MIN_LENGTH', type: 'int', default: 12, min: 8, max: 256, description: 'Minimum password length (characters) when a password is set.' },
  { key: 'throttleWindow', flag: '--throttle-window', env: 'RCAUTH_THROTTLE_WINDOW', type: 'int', default: 900, min: 1, max: 86400, description: 'Seconds over which failed logins are counted.' },
  { key: 'throttleIpUser', flag: '--throttle-ip-user', env: 'RCAUTH_THROTTLE_IP_USER', type: 'int', default: 10, min: 1, max: 100000, description: 'Failed logins for one username from one IP per window before 429.' },
  { key: 'throttleUser', flag: '--throttle-user', env: 'RCAUTH_THROTTLE_USER', type: 'int', default: 100, min: 1, max: 1000000, description: 'Failed logins for one username from all IPs per window before 429.' },
  { key: 'rateLimit', flag: '--rate-limit', env: 'RCAUTH_RATE_LIMIT', type: 'int', default: 600, min: 0, max: 10000000, serveOnly: true, description: 'Requests per minute per client IP on the token endpoints; 0 turns it off.' },
  { key: 'corsOrigins', flag: '--cors-origins', env: 'RCAUTH_CORS_ORIGINS', type: 'list', default: [], serveOnly: true, description: 'Origins allowed to call the token endpoints from a browser (CORS is off when empty).' },
  { key: 'metricsPort', flag: '--metrics-port', env: 'RCAUTH_METRICS_PORT', type: 'int', default: 0, min: 0, max: 65535, serveOnly: true, description: 'Serve /metrics on this port instead of the main one (0: main port).' },
  { key: 'workers', flag: '--workers', env: 'RCAUTH_WORKERS', type: 'int', default: 1, min: 1, max: 64, serveOnly: true, description: 'Server processes sharing the port (node:cluster).' },
  { key: 'purgeInterval', flag: '--purge-interval', env: 'RCAUTH_PURGE_INTERVAL', type: 'int', default: 300, min: 1, max: 86400, serveOnly: true, description: 'Seconds between background purges of ended sessions.' },
  { key: 'auditRetention', flag: '--audit-retention', env: 'RCAUTH_AUDIT_RETENTION', type: 'int', default: 7776000, min: 3600, max: 315360000, description: 'Seconds audit events are kept (default 90 days).' },
  { key: 'keyRefresh', flag: '--key-refresh', env: 'RCAUTH_KEY_REFRESH', type: 'int', default: 5, min: 1, max: 3600, serveOnly: true, description: 'Seconds between reloads of the signing keys from the store (cluster key rotation).' },
  { key: 'argon2Memory', flag: '--argon2-memory', env: 'RCAUTH_ARGON2_MEMORY', type: 'int', default: 19456, min: 19456, max: 4194304, description: 'argon2id memory cost, KiB (OWASP minimum 19456).' },
  { key: 'argon2Time', flag: '--argon2-time', env: 'RCAUTH_ARGON2_TIME', type: 'int', default: 2, min: 2, max: 100, description: 'argon2id iterations (OWASP minimum 2).' },
  { key: 'headerTimeout', flag: '--header-timeout', env: 'RCAUTH_HEADER_TIMEOUT', type: 'int', default: 10, min: 1, max: 600, serveOnly: true, description: 'Seconds a client has to send the request headers (slowloris).' },
  { key: 'requestTimeout', flag: '--request-timeout', env: 'RCAUTH_REQUEST_TIMEOUT', type: 'int', default: 30, min: 1, max: 3600, serveOnly: true, description: 'Seconds a client has to send the whole request.' },
] as const satisfies readonly Setting[];

type Settings = typeof settings;
type ValueOf<S> = S extends { type: 'int' } ? number : S extends { type: 'bool' } ? boolean : S extends { type: 'list' } ? string[] : string;

export type Config = { readonly [S in Settings[number] as S['key']]: ValueOf<S> };
