import { hash } from 'node:crypto';
import type { Core } from '../core/index.js';
import { TokenInspector } from '../core/introspection.js';
import type { AccountRecord } from '../core/store.js';
import type { AccessTokenClaims } from '../verify/check.js';

/** How long a verdict is reused: also the longest a revoked token still passes the gateway. */
export const TOKEN_CACHE_TTL_MS = 5_000;
/** Bounds memory under many distinct callers: ~10k entries of a few hundred bytes each. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

type Verdict = { claims: AccessTokenClaims; account: AccountRecord };

interface Entry {
  issuer: string;
  /** Epoch ms after which the entry is not used. */
  until: number;
  verdict: Promise<Verdict>;
}

/**
 * The server's token check with a short memory, for the gateway's hot path.
 *
 * A miss runs the full check of TokenInspector (signature, exp/iss/aud, and
 * revocation through the account), so there is one copy of the rules. A hit
 * reuses that verdict for at most `ttlMs` and never past the token's `exp`:
 * a token revoked (password change, disable, `user revoke`) is therefore refused
 * within `ttlMs`. Only successful verdicts are kept; a failure (bad token, store
 * down) is forgotten at once, so garbage tokens cannot fill the cache and an
 * outage does not outlive itself. Concurrent requests with the same token share
 * one check in flight.
 *
 * Entries are keyed by the token's SHA-256, so no bearer token sits in memory as
 * a map key (heap dumps), and keys have a fixed size.
 */
export class CachedTokenInspector extends TokenInspector {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(core: Pick<Core, 'keys' | 'store' | 'options' | 'now'>, opts: { ttlMs?: number; maxEntries?: number } = {}) {
    super({ keys: core.keys, store: core.store, audience: core.options.audience, now: core.now });
    this.now = core.now;
    this.ttlMs = opts.ttlMs ?? TOKEN_CACHE_TTL_MS;
    this.maxEntries = opts.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES;
    if (!(this.ttlMs >= 0) || !(this.maxEntries >= 1)) throw new TypeError('ttlMs must be >= 0 and maxEntries >= 1');
  }

  /** Number of cached verdicts (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  override check(token: string, issuer: string): Promise<Verdict> {
    // The one-shot hash costs about half of createHash().update().digest() for a token-sized input.
    const key = hash('sha256', token, 'base64url');
    const now = this.now();
    const hit = this.entries.get(key);
    // The issuer is part of the check (it follows the Host header when --issuer
    // is unset), so a verdict made for another issuer is not reused.
    if (hit && hit.until > now && hit.issuer === issuer) return hit.verdict;
    if (hit) this.entries.delete(key);

    const verdict = super.check(token, issuer);
    if (this.ttlMs === 0) return verdict;
    // `until` counts from before the store was read, so a revocation written
    // after that read is seen at most ttlMs later.
    const entry: Entry = { issuer, until: now + this.ttlMs, verdict };
    this.evictIfFull();
    this.entries.set(key, entry);
    verdict.then(
      ({ claims }) => {
        entry.until = Math.min(entry.until, claims.exp * 1000);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return verdict;
  }

  /** Drops the oldest entry (Map keeps insertion order); entries live seconds, so FIFO is as good as LRU here. */
  private evictIfFull(): void {
    if (this.entries.size < this.maxEntries) return;
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}
