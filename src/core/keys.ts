import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { KeyObject } from 'node:crypto';
import { seal, unseal } from './crypto.js';
import type { SigningKeyRecord, Store } from './store.js';

export type SigningAlg = 'RS256' | 'ES256';

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  publicKey: CryptoKey;
  /** node:crypto's handle, made once here: the token issuer signs with it on every grant. */
  privateKey: KeyObject | null;
  createdAt: number;
  retiredAt: number | null;
}

const SEALED = 'sealed:';

/**
 * The signing key ring. Keys live in the store so every node signs with the
 * same key; each node reloads them every few seconds (SPEC §5: a rotation is
 * served by all nodes within 10 s). A retired key stays published until every
 * token it signed has expired.
 */
export class KeyRing {
  private keys: LoadedKey[] = [];
  private rereading: Promise<void> | null = null;
  private lastReread = 0;
  private readonly byKid = new Map<string, LoadedKey>();

  constructor(
    private readonly store: Store,
    private readonly opts: { alg: SigningAlg; masterKey: string; accessTtlMs: number; now: () => number },
  ) {}

  /** Loads the keys; makes the first one when the store has none. */
  async load(): Promise<void> {
    let records = await this.store.listKeys();
    if (!records.some((r) => r.retiredAt === null)) {
      await this.store.addActiveKey(await this.generate());
      records = await this.store.listKeys();
    }
    await this.replace(records);
  }

  /** Rereads the store (cheap when nothing changed). */
  async reload(): Promise<void> {
    const records = await this.store.listKeys();
    const same = records.length === this.keys.length && records.every((r, i) => r.kid === this.keys[i]?.kid && r.retiredAt === this.keys[i]?.retiredAt);
    if (!same) await this.replace(records);
  }

  /** Makes a new active key; the old one is retired but still published. */
  async rotate(): Promise<SigningKeyRecord> {
    const record = await this.generate();
    await this.store.addActiveKey(record);
    await this.replace(await this.store.listKeys());
    return record;
  }

  active(): LoadedKey {
    const key = this.keys.find((k) => k.retiredAt === null && k.privateKey);
    if (!key) throw new Error('no active signing key loaded');
    return key;
  }

  /**
   * Like {@link find}, but an unknown kid first rereads the store: another node may
   * have made the key moments ago (a rotation, or nodes starting together on an
   * empty store). At most one reread per second, shared by concurrent callers, so
   * tokens with made-up kids cannot turn into a query each.
   */
  async resolve(kid: string): Promise<{ key: CryptoKey; alg: SigningAlg } | null> {
    const found = this.find(kid);
    if (found || this.byKid.has(kid)) return found;
    if (!this.rereading && this.opts.now() - this.lastReread >= 1000) {
      this.lastReread = this.opts.now();
      this.rereading = this.reload().finally(() => (this.rereading = null));
    }
    if (this.rereading) await this.rereading;
    return this.find(kid);
  }

  /** Public key and its one algorithm, for the token checker (RFC 8725 §3.1). */
  find(kid: string): { key: CryptoKey; alg: SigningAlg } | null {
    const k = this.byKid.get(kid);
    if (!k || !this.published(k)) return null;
    return { key: k.publicKey, alg: k.alg };
  }

  /** RFC 7517 JWK Set: the active key plus retired keys whose tokens may still be live. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.filter((k) => this.published(k)).map((k) => k.publicJwk) };
  }

  list(): { kid: string; alg: string; createdAt: number; retiredAt: number | null; status: 'active' | 'retired' | 'expired' }[] {
    return this.keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      createdAt: k.createdAt,
      retiredAt: k.retiredAt,
      status: k.retiredAt === null ? 'active' : this.published(k) ? 'retired' : 'expired',
    }));
  }

  private published(k: LoadedKey): boolean {
    // One minute beyond the access TTL covers clock skew between nodes.
    return k.retiredAt === null || k.retiredAt + this.opts.accessTtlMs + 60_000 > this.opts.now();
  }

  private async generate(): Promise<SigningKeyRecord> {
    const { alg } = this.opts;
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const privateJwk = JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid, alg });
    return {
      kid,
      alg,
      publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
      privateJwk: this.opts.masterKey ? SEALED + seal(privateJwk, this.opts.masterKey, 'rcauth signing key') : privateJwk,
      createdAt: this.opts.now(),
      retiredAt: null,
    };
  }

  private async replace(records: SigningKeyRecord[]): Promise<void> {
    const loaded: LoadedKey[] = [];
    for (const r of records) {
      const known = this.byKid.get(r.kid);
      if (known) {
        loaded.push({ ...known, retiredAt: r.retiredAt });
        continue;
      }
      const alg = r.alg as SigningAlg;
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      const publicKey = (await importJWK(publicJwk, alg)) as CryptoKey;
      // Retired keys only verify; the private half is needed for the active key only.
      const privateKey = r.retiredAt === null ? KeyObject.from((await importJWK(this.openPrivate(r), alg)) as CryptoKey) : null;
      loaded.push({ kid: r.kid, alg, publicJwk, publicKey, privateKey, createdAt: r.createdAt, retiredAt: r.retiredAt });
    }
    this.keys = loaded;
    this.byKid.clear();
    for (const k of loaded) this.byKid.set(k.kid, k);
  }

  private openPrivate(r: SigningKeyRecord): JWK {
    if (!r.privateJwk.startsWith(SEALED)) return JSON.parse(r.privateJwk) as JWK;
    if (!this.opts.masterKey) throw new Error(`signing key ${r.kid} is encrypted: set RCAUTH_MASTER_KEY`);
    const text = unseal(r.privateJwk.slice(SEALED.length), this.opts.masterKey, 'rcauth signing key');
    if (text === null) throw new Error(`signing key ${r.kid} cannot be decrypted with this RCAUTH_MASTER_KEY`);
    return JSON.parse(text) as JWK;
  }
}
