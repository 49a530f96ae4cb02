// The gateway's verdict cache over the real core and an in-memory SQLite store,
// with the clock moved on purpose: reuse within the TTL, revocation seen after
// it, never past exp, failures not kept, bounded size, one check in flight.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { InvalidToken, StoreUnavailable } from '../../src/core/errors.js';
import { createCore, type Core } from '../../src/core/index.js';
import { CachedTokenInspector, TOKEN_CACHE_TTL_MS } from '../../src/gateway/token-cache.js';
import { coreOptions } from '../../src/runtime.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const ISSUER = 'http://127.0.0.1:8080';
const ctx = { issuer: ISSUER, clientIp: '127.0.0.1', userAgent: 'test', requestId: 'r1' };
const PASSWORD = 'cache-password-long-1';

describe('CachedTokenInspector', () => {
  let core: Core;
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const store = new SqliteStore(':memory:');
  let lookups = 0;

  before(async () => {
    await store.migrate();
    core = await createCore(store, coreOptions(defaultConfig({ accessTtl: 60 })), { now: () => now });
    for (const name of ['carol', 'dave', 'erin']) await core.accounts.create(name, PASSWORD, undefined, { actor: 'test' });
    // Count the revocation lookups the inspector makes: a cache hit makes none.
    const find = store.findAccountById.bind(store);
    store.findAccountById = async (id: string) => {
      lookups++;
      return find(id);
    };
  });
  after(() => store.close());
  beforeEach(() => {
    lookups = 0;
  });

  const tokenFor = async (name: string): Promise<string> => (await core.sessions.passwordGrant(name, PASSWORD, undefined, ctx)).access_token;

  it('reuses a verdict within the TTL and checks again after it', async () => {
    const cache = new CachedTokenInspector(core);
    const token = await tokenFor('carol');
    assert.equal((await cache.check(token, ISSUER)).claims.sub, 'carol');
    now += TOKEN_CACHE_TTL_MS - 1;
    await cache.check(token, ISSUER);
    assert.equal(lookups, 1, 'second call within the TTL is a hit');
    now += 2;
    await cache.check(token, ISSUER);
    assert.equal(lookups, 2, 'after the TTL the store is read again');
  });

  it('refuses a revoked token once the TTL has passed, not before', async () => {
    const cache = new CachedTokenInspector(core);
    const token = await tokenFor('dave');
    await cache.check(token, ISSUER);
    now += 1000;
    await core.accounts.revokeSessions('dave', { actor: 'test' });
    await cache.check(token, ISSUER); // still inside the documented delay
    now += TOKEN_CACHE_TTL_MS;
    await assert.rejects(cache.check(token, ISSUER), (err: unknown) => err instanceof InvalidToken && err.code === 'invalid_token');
    assert.equal(cache.size, 0, 'the failure is not kept');
  });

  it('never serves a verdict past the token\'s exp', async () => {
    const cache = new CachedTokenInspector(core, { ttlMs: 120_000 });
    const token = await tokenFor('erin');
    await cache.check(token, ISSUER);
    now += 59_000;
    await cache.check(token, ISSUER);
    assert.equal(lookups, 1);
    now += 1_000; // at exp: the entry is dropped, the store is read again (the check allows 1 s of leeway)
    await cache.check(token, ISSUER);
    assert.equal(lookups, 2);
    now += 1_500; // past exp and its leeway, still inside the TTL: refused
    await assert.rejects(cache.check(token, ISSUER), InvalidToken);
  });

  it('does not keep failures and does not reuse a verdict for another issuer', async () => {
    const cache = new CachedTokenInspector(core);
    await assert.rejects(cache.check('not.a.token', ISSUER), InvalidToken);
    assert.equal(cache.size, 0);
    const token = await tokenFor('carol');
    await cache.check(token, ISSUER);
    await assert.rejects(cache.check(token, 'http://other.example'), InvalidToken);
    assert.equal(lookups, 1, 'the iss mismatch fails before the store');
  });

  it('shares one check between concurrent requests with the same token', async () => {
    const cache = new CachedTokenInspector(core);
    const token = await tokenFor('carol');
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.check(token, ISSUER)));
    assert.equal(lookups, 1);
    assert.ok(results.every((r) => r.claims.jti === results[0]!.claims.jti));
  });

  it('stays within its size bound, dropping the oldest entry', async () => {
    const cache = new CachedTokenInspector(core, { maxEntries: 2 });
    const tokens = [await tokenFor('carol'), await tokenFor('carol'), await tokenFor('carol')];
    for (const t of tokens) await cache.check(t, ISSUER);
    assert.equal(cache.size, 2);
    lookups = 0;
    await cache.check(tokens[2]!, ISSUER);
    assert.equal(lookups, 0, 'the newest is still cached');
    await cache.check(tokens[0]!, ISSUER);
    assert.equal(lookups, 1, 'the oldest was evicted');
  });

  it('forgets a store outage at once', async () => {
    const cache = new CachedTokenInspector(core);
    const token = await tokenFor('carol');
    const find = store.findAccountById;
    store.findAccountById = async () => {
      throw new StoreUnavailable();
    };
    try {
      await assert.rejects(cache.check(token, ISSUER), StoreUnavailable);
    } finally {
      store.findAccountById = find;
    }
    assert.equal(cache.size, 0);
    assert.equal((await cache.check(token, ISSUER)).claims.sub, 'carol');
  });

  it('rejects nonsense options as a programming error', () => {
    assert.throws(() => new CachedTokenInspector(core, { maxEntries: 0 }), TypeError);
    assert.throws(() => new CachedTokenInspector(core, { ttlMs: Number.NaN }), TypeError);
  });
});
