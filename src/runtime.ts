import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import type { CoreOptions } from './core/index.js';
import type { Store } from './core/store.js';
import { SqliteStore } from './store/sqlite/index.js';

/** Where SQLite lives: `sqlite:PATH`, else DATA_DIR/rcauth.db (SPEC §12). */
export function sqlitePath(config: Config): string {
  if (config.databaseUrl.startsWith('sqlite:')) return resolve(config.databaseUrl.slice('sqlite:'.length));
  return resolve(join(config.dataDir, 'rcauth.db'));
}

/** Opens the configured store (PostgreSQL is loaded only when used). */
export async function openStore(config: Config): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    const { PostgresStore } = await import('./store/postgres/index.js');
    return new PostgresStore(config.databaseUrl);
  }
  return new SqliteStore(sqlitePath(config), { synchronous: config.sqliteSynchronous as 'normal' | 'full' });
}

export function coreOptions(config: Config): CoreOptions {
  return {
    audience: config.audience,
    accessTtl: config.accessTtl,
    refreshTtl: config.refreshTtl,
    refreshIdleTtl: config.refreshIdleTtl,
    refreshGrace: config.refreshGrace,
    clientId: config.clientId,
    clients: config.clients,
    tokenProfile: config.tokenProfile as CoreOptions['tokenProfile'],
    signingAlg: config.signingAlg as CoreOptions['signingAlg'],
    masterKey: config.masterKey,
    passwordMinLength: config.passwordMinLength,
    throttleWindow: config.throttleWindow,
    throttleIpUser: config.throttleIpUser,
    throttleUser: config.throttleUser,
    argon2Memory: config.argon2Memory,
    argon2Time: config.argon2Time,
  };
}
