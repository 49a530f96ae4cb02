import { AccountService, DEFAULT_SCOPES } from './accounts.js';
import { AuditLog } from './audit.js';
import { UniqueViolation } from './errors.js';
import { TokenInspector } from './introspection.js';
import { KeyRing, type SigningAlg } from './keys.js';
import { PasswordHasher } from './passwords.js';
import { randomToken } from './crypto.js';
import { SessionService, type SessionEvent } from './sessions.js';
import type { Store } from './store.js';
import { LoginThrottle } from './throttle.js';
import { TokenIssuer, type TokenProfile } from './tokens.js';

export interface CoreOptions {
  audience: string;
  /** seconds */
  accessTtl: number;
  refreshTtl: number;
  refreshIdleTtl: number;
  refreshGrace: number;
  /** Empty: a stable id made with the store. */
  clientId: string;
  clients: readonly string[];
  tokenProfile: TokenProfile;
  signingAlg: SigningAlg;
  masterKey: string;
  passwordMinLength: number;
  throttleWindow: number;
  throttleIpUser: number;
  throttleUser: number;
  argon2Memory: number;
  argon2Time: number;
}

export interface Core {
  store: Store;
  keys: KeyRing;
  sessions: SessionService;
  accounts: AccountService;
  inspector: TokenInspector;
  throttle: LoginThrottle;
  audit: AuditLog;
  hasher: PasswordHasher;
  clientId: string;
  now: () => number;
  options: CoreOptions;
}

/**
 * Wires the core around a store: loads (or makes) the signing keys and the
 * store's client id. The store must be migrated already.
 */
export async function createCore(
  store: Store,
  options: CoreOptions,
  hooks: { now?: () => number; onEvent?: (e: SessionEvent) => void; onAuditError?: (err: unknown) => void } = {},
): Promise<Core> {
  const now = hooks.now ?? Date.now;
  const hasher = new PasswordHasher({ memoryCost: options.argon2Memory, timeCost: options.argon2Time, parallelism: 1 });
  const keys = new KeyRing(store, { alg: options.signingAlg, masterKey: options.masterKey, accessTtlMs: options.accessTtl * 1000, now });
  await keys.load();
  const clientId = options.clientId || (await store.setMetaIfAbsent('client_id', `0oa${randomToken(15)}`));
  const audit = new AuditLog(store, now, hooks.onAuditError);
  const throttle = new LoginThrottle(store, { windowMs: options.throttleWindow * 1000, perIpUser: options.throttleIpUser, perUser: options.throttleUser });
  const issuer = new TokenIssuer(keys, { audience: options.audience, accessTtl: options.accessTtl, profile: options.tokenProfile });
  const sessions = new SessionService({
    store, hasher, issuer, throttle, audit, now, onEvent: hooks.onEvent,
    policy: {
      absoluteTtl: options.refreshTtl * 1000, idleTtl: options.refreshIdleTtl * 1000, grace: options.refreshGrace * 1000,
      defaultClientId: clientId, clients: options.clients,
    },
  });
  const accounts = new AccountService({ store, hasher, audit, throttle, now, passwordMinLength: options.passwordMinLength });
  const inspector = new TokenInspector({ keys, store, audience: options.audience, now });
  return { store, keys, sessions, accounts, inspector, throttle, audit, hasher, clientId, now, options };
}

/**
 * First start: an empty store gets the account `admin` (scope rcauth:admin) with a
 * random password, which is returned to the caller to write to a 0600 file. On a
 * shared store only the node that created it gets a password (SPEC §12).
 */
export async function bootstrapAdmin(core: Core): Promise<string | null> {
  if ((await core.store.countAccounts()) > 0) return null;
  try {
    const { password } = await core.accounts.create('admin', undefined, ['rcauth:admin', ...DEFAULT_SCOPES], { actor: 'bootstrap' });
    return password;
  } catch (err) {
    if (err instanceof UniqueViolation || (err as { code?: string }).code === 'conflict') return null;
    throw err;
  }
}
