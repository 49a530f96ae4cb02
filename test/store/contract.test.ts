/**
 * The storage contract (src/core/store.ts), run against every dialect on a real
 * database: SQLite on a temp file, PostgreSQL on a throwaway server. Where a test
 * needs two nodes it opens two stores on one database; on PostgreSQL their pools
 * really race. A short PostgreSQL-only part at the end covers outages and timeouts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { StoreUnavailable, UniqueViolation } from '../../src/core/errors.js';
import type { AuditEvent, FamilyRecord, NewAccount, NewFamily, RotateInput, SigningKeyRecord, Store } from '../../src/core/store.js';
import { PostgresStore, isPostgresUrl } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startPostgres } from '../helpers/postgres.js';
import type { TestPostgres } from '../helpers/postgres.js';

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const DAY = 86_400_000;

let seq = 0;
const uniq = (prefix: string): string => `${prefix}${++seq}${randomBytes(3).toString('hex')}`;
const tokenHash = (): string => randomBytes(32).toString('base64url');

function newAccount(over: Partial<NewAccount> = {}): NewAccount {
  return {
    id: uniq('acc'), username: uniq('user'), passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    scopes: ['openid', 'offline_access', 'profile'], disabled: false, createdAt: T0, ...over,
  };
}

function newFamily(accountId: string, over: Partial<NewFamily> = {}): NewFamily {
  return {
    id: uniq('fam'), accountId, clientId: 'client-1', scopes: ['openid', 'profile'], authTime: T0 / 1000,
    createdAt: T0, lastUsedAt: T0, expiresAt: T0 + 30 * DAY, idleExpiresAt: T0 + 7 * DAY,
    currentHash: tokenHash(), clientIp: '203.0.113.7', userAgent: 'contract-test', ...over,
  };
}

const asCreated = (f: NewFamily): FamilyRecord =>
  ({ ...f, revokedAt: null, revokedReason: null, previousHash: null, graceResponse: null, graceUntil: null });

function rotation(f: { id: string; currentHash: string }, over: Partial<RotateInput> = {}): RotateInput {
  return {
    familyId: f.id, oldHash: f.currentHash, newHash: tokenHash(), now: T0 + MINUTE,
    idleExpiresAt: T0 + MINUTE + 7 * DAY, graceResponse: 'sealed-response', graceUntil: T0 + MINUTE + 30_000, ...over,
  };
}

function auditEvent(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at: T0, type: 'login', outcome: 'ok', username: 'alice', accountId: 'acc-1', clientIp: '203.0.113.7',
    requestId: 'req-1', actor: null, detail: null, ...over,
  };
}

function signingKey(kid: string, createdAt: number): SigningKeyRecord {
  return { kid, alg: 'RS256', publicJwk: `{"kid":"${kid}"}`, privateJwk: `sealed:${kid}`, createdAt, retiredAt: null };
}

/** One database engine under test; a "node" is one store opened on a database. */
interface Dialect {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Creates an empty database; the returned function opens a node on it. */
  freshDatabase(): Promise<() => Store>;
}

function sqliteDialect(): Dialect {
  let dir = '';
  let n = 0;
  return {
    name: 'sqlite',
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'rcauth-sqlite-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
    async freshDatabase() {
      const dbDir = join(dir, `db${++n}`);
      mkdirSync(dbDir);
      return () => new SqliteStore(join(dbDir, 'rcauth.db'));
    },
  };
}

let server: Promise<TestPostgres> | undefined;
/** One server for the whole file, started by the first suite that needs it. */
const postgresServer = (): Promise<TestPostgres> => (server ??= startPostgres());
after(async () => {
  await (await server)?.stop();
});

function postgresDialect(): Dialect {
  let n = 0;
  return {
    name: 'postgres',
    async setup() {
      await postgresServer();
    },
    async teardown() {},
    async freshDatabase() {
      const url = await (await postgresServer()).createDatabase(`contract_${++n}`);
      return () => new PostgresStore(url, { poolSize: 20 });
    },
  };
}

for (const dialect of [sqliteDialect(), postgresDialect()]) {
  describe(`Store contract: ${dialect.name}`, () => {
    const opened: Store[] = [];
    let store: Store;
    /** A second node on the main database. */
    let other: Store;

    const open = (factory: () => Store): Store => {
      const s = factory();
      opened.push(s);
      return s;
    };

    before(async () => {
      await dialect.setup();
      const factory = await dialect.freshDatabase();
      store = open(factory);
      await store.migrate();
      other = open(factory);
      await other.migrate();
    });

    after(async () => {
      await Promise.all(opened.map((s) => s.close()));
      await dialect.teardown();
    });

    describe('schema', () => {
      it('reports its dialect and answers ping()', async () => {
        assert.equal(store.dialect, dialect.name);
        await store.ping();
      });

      it('migrate() again is a no-op that keeps the data', async () => {
        const key = uniq('meta');
        await store.setMetaIfAbsent(key, 'kept');
        await store.migrate();
        await other.migrate();
        assert.equal(await store.getMeta(key), 'kept');
      });

      it('several nodes migrating one empty database at once all succeed', async () => {
        const factory = await dialect.freshDatabase();
        const nodes = [open(factory), open(factory), open(factory), open(factory)];
        await Promise.all(nodes.map((s) => s.migrate()));
        const a = newAccount();
        await nodes[0]!.createAccount(a);
        assert.equal((await nodes[3]!.findAccountById(a.id))?.username, a.username);
      });
    });

    describe('meta', () => {
      it('setMetaIfAbsent keeps the first value', async () => {
        const key = uniq('meta');
        assert.equal(await store.getMeta(key), null);
        assert.equal(await store.setMetaIfAbsent(key, 'first'), 'first');
        assert.equal(await store.setMetaIfAbsent(key, 'second'), 'first');
        assert.equal(await store.getMeta(key), 'first');
      });

      it('concurrent setMetaIfAbsent calls on two nodes agree on one value', async () => {
        const key = uniq('meta');
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).setMetaIfAbsent(key, `v${i}`)),
        );
        assert.equal(new Set(results).size, 1);
        assert.equal(await store.getMeta(key), results[0]);
      });
    });

    describe('accounts', () => {
      it('createAccount returns the full record, found by id and by username ignoring case', async () => {
        const a = newAccount({ username: uniq('Alice') });
        const created = await store.createAccount(a);
        const expected = { ...a, updatedAt: a.createdAt, lastLoginAt: null, tokensValidAfter: 0 };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.findAccountById(a.id), expected);
        assert.deepEqual(await store.findAccountByUsername(a.username.toUpperCase()), expected);
        assert.deepEqual(await other.findAccountByUsername(a.username.toLowerCase()), expected);
        assert.equal(await store.findAccountByUsername(uniq('nobody')), null);
        assert.equal(await store.findAccountById(uniq('nobody')), null);
      });

      it('a username that differs only in case is a UniqueViolation', async () => {
        const name = uniq('Bob');
        await store.createAccount(newAccount({ username: name }));
        await assert.rejects(store.createAccount(newAccount({ username: name.toUpperCase() })), UniqueViolation);
        await store.createAccount(newAccount({ username: `Ärger${name}` }));
        await assert.rejects(other.createAccount(newAccount({ username: `äRGER${name.toLowerCase()}` })), UniqueViolation);
      });

      it('a reused id is a UniqueViolation', async () => {
        const a = await store.createAccount(newAccount());
        await assert.rejects(store.createAccount(newAccount({ id: a.id })), UniqueViolation);
      });

      it('listAccounts searches ignoring case, sorts by username and pages', async () => {
        const tag = uniq('list');
        for (const name of ['carol', 'Alice', 'bob']) await store.createAccount(newAccount({ username: `${tag}-${name}` }));
        const names = async (filter: Parameters<Store['listAccounts']>[0]) =>
          (await store.listAccounts(filter)).map((a) => a.username);
        assert.deepEqual(await names({ search: tag.toUpperCase() }), [`${tag}-Alice`, `${tag}-bob`, `${tag}-carol`]);
        assert.deepEqual(await names({ search: tag, limit: 2, offset: 1 }), [`${tag}-bob`, `${tag}-carol`]);
        assert.deepEqual(await names({ search: `${tag}-B` }), [`${tag}-bob`]);
        const all = await store.listAccounts();
        assert.equal(all.length, await store.countAccounts());
        assert.ok(all.some((a) => a.username === `${tag}-Alice`));
      });

      it('listAccounts takes % and _ in the search literally', async () => {
        const tag = uniq('wild');
        await store.createAccount(newAccount({ username: `${tag}a_b` }));
        await store.createAccount(newAccount({ username: `${tag}axb` }));
        await store.createAccount(newAccount({ username: `${tag}100%` }));
        assert.deepEqual((await store.listAccounts({ search: `${tag}a_b` })).map((a) => a.username), [`${tag}a_b`]);
        assert.deepEqual((await store.listAccounts({ search: `${tag}1%` })).map((a) => a.username), []);
        assert.deepEqual((await store.listAccounts({ search: `0%` })).map((a) => a.username), [`${tag}100%`]);
      });

      it('countAccounts counts every account', async () => {
        const before = await store.countAccounts();
        await other.createAccount(newAccount());
        assert.equal(await store.countAccounts(), before + 1);
      });

      it('updateAccount patches the given fields and stamps updatedAt', async () => {
        const a = await store.createAccount(newAccount());
        const patch = { passwordHash: 'new-hash', scopes: ['openid'], disabled: true, lastLoginAt: T0 + 5, tokensValidAfter: T0 + 6 };
        assert.equal(await store.updateAccount(a.id, patch, T0 + 10), true);
        assert.deepEqual(await store.findAccountById(a.id), { ...a, ...patch, updatedAt: T0 + 10 });
        assert.equal(await store.updateAccount(a.id, { disabled: false }, T0 + 20), true);
        const enabled = await store.findAccountById(a.id);
        assert.equal(enabled?.disabled, false);
        assert.equal(enabled?.passwordHash, 'new-hash');
        assert.equal(enabled?.updatedAt, T0 + 20);
        assert.equal(await store.updateAccount(uniq('nobody'), { disabled: true }, T0), false);
      });

      it('tokensValidAfter never moves backwards', async () => {
        const a = await store.createAccount(newAccount());
        await store.updateAccount(a.id, { tokensValidAfter: T0 + 100 }, T0 + 100);
        await store.updateAccount(a.id, { tokensValidAfter: T0 + 50 }, T0 + 200);
        assert.equal((await store.findAccountById(a.id))?.tokensValidAfter, T0 + 100);
      });

      it('removeAccount deletes the account with its sessions and tokens', async () => {
        const a = await store.createAccount(newAccount());
        const live = newFamily(a.id);
        const ended = newFamily(a.id);
        await store.createFamily(live);
        await store.createFamily(ended);
        await store.revokeFamily(ended.id, T0, 'logout');
        const keep = await store.createAccount(newAccount());
        const kept = newFamily(keep.id);
        await store.createFamily(kept);

        assert.equal(await store.removeAccount(a.id), true);
        assert.equal(await store.findAccountById(a.id), null);
        assert.equal(await store.findRefreshToken(live.currentHash), null);
        assert.equal(await store.findRefreshToken(ended.currentHash), null);
        assert.equal(await store.findFamily(ended.id), null);
        assert.notEqual(await store.findRefreshToken(kept.currentHash), null);
        assert.equal(await store.removeAccount(a.id), false);
      });
    });

    describe('sessions', () => {
      let accountId: string;
      before(async () => {
        accountId = (await store.createAccount(newAccount())).id;
      });

      it('createFamily stores the family and its first token', async () => {
        const f = newFamily(accountId, { clientIp: null, userAgent: null });
        await store.createFamily(f);
        assert.deepEqual(await other.findRefreshToken(f.currentHash), {
          token: { hash: f.currentHash, familyId: f.id, createdAt: f.createdAt, used: false },
          family: asCreated(f),
          account: await store.findAccountById(accountId),
        });
        assert.ok((await store.findAccountById(accountId))?.id === accountId, 'the joined account is the family\'s');
        assert.deepEqual(await store.findFamily(f.id), asCreated(f));
        assert.equal(await store.findRefreshToken(tokenHash()), null);
        assert.equal(await store.findFamily(uniq('fam')), null);
      });

      it('a token hash is unique', async () => {
        const f = newFamily(accountId);
        await store.createFamily(f);
        await assert.rejects(store.createFamily(newFamily(accountId, { currentHash: f.currentHash })), UniqueViolation);
      });

      it('rotate makes the new token current and burns the old one, once', async () => {
        const f = newFamily(accountId);
        await store.createFamily(f);
        const r = rotation(f);
        assert.equal(await store.rotate(r), true);

        const old = await store.findRefreshToken(f.currentHash);
        assert.equal(old?.token.used, true);
        const fresh = await other.findRefreshToken(r.newHash);
        assert.deepEqual(fresh?.token, { hash: r.newHash, familyId: f.id, createdAt: r.now, used: false });
        assert.deepEqual(fresh?.family, {
          ...asCreated(f), currentHash: r.newHash, previousHash: f.currentHash, lastUsedAt: r.now,
          idleExpiresAt: r.idleExpiresAt, graceResponse: r.graceResponse, graceUntil: r.graceUntil,
        });

        assert.equal(await store.rotate(rotation(f, { now: T0 + 2 * MINUTE })), false);
        assert.equal((await store.findFamily(f.id))?.currentHash, r.newHash);
      });

      it('rotate refuses a token that is not the family’s current one, touching nothing', async () => {
        const f = newFamily(accountId);
        const g = newFamily(accountId);
        await store.createFamily(f);
        await store.createFamily(g);
        assert.equal(await store.rotate(rotation({ id: f.id, currentHash: g.currentHash })), false);
        assert.equal(await store.rotate(rotation({ id: f.id, currentHash: tokenHash() })), false);
        assert.deepEqual(await store.findFamily(f.id), asCreated(f));
        assert.equal((await store.findRefreshToken(g.currentHash))?.token.used, false);
      });

      it('rotate refuses a revoked family without burning the token', async () => {
        const f = newFamily(accountId);
        await store.createFamily(f);
        await store.revokeFamily(f.id, T0 + 1, 'logout');
        const r = rotation(f);
        assert.equal(await store.rotate(r), false);
        assert.equal((await store.findRefreshToken(f.currentHash))?.token.used, false);
        assert.equal(await store.findRefreshToken(r.newHash), null);
      });

      it('of 50 concurrent rotations of one token on two nodes, exactly one wins', async () => {
        const f = newFamily(accountId);
        await store.createFamily(f);
        const attempts = Array.from({ length: 50 }, () => rotation(f));
        const results = await Promise.all(attempts.map((r, i) => (i % 2 ? other : store).rotate(r)));
        assert.equal(results.filter(Boolean).length, 1);
        const winner = attempts[results.indexOf(true)]!;
        assert.equal((await store.findFamily(f.id))?.currentHash, winner.newHash);
        const losers = attempts.filter((r) => r !== winner);
        for (const r of losers) assert.equal(await store.findRefreshToken(r.newHash), null);
      });

      it('revokeFamily ends a family once and drops its grace response', async () => {
        const f = newFamily(accountId);
        await store.createFamily(f);
        await store.rotate(rotation(f));
        assert.equal(await store.revokeFamily(f.id, T0 + 2 * MINUTE, 'reuse'), true);
        assert.equal(await other.revokeFamily(f.id, T0 + 3 * MINUTE, 'logout'), false);
        const ended = await store.findFamily(f.id);
        assert.equal(ended?.revokedAt, T0 + 2 * MINUTE);
        assert.equal(ended?.revokedReason, 'reuse');
        assert.equal(ended?.graceResponse, null);
        assert.equal(ended?.graceUntil, null);
        assert.equal(await store.revokeFamily(uniq('fam'), T0, 'logout'), false);
      });

      it('revokeAccountFamilies ends every live family of the account and counts them', async () => {
        const a = await store.createAccount(newAccount());
        const families = [newFamily(a.id), newFamily(a.id), newFamily(a.id)];
        for (const f of families) await store.createFamily(f);
        await store.revokeFamily(families[0]!.id, T0, 'logout');
        const bystander = newFamily(accountId);
        await store.createFamily(bystander);

        assert.equal(await store.revokeAccountFamilies(a.id, T0 + 5, 'password-changed'), 2);
        assert.equal((await store.findFamily(families[1]!.id))?.revokedReason, 'password-changed');
        assert.equal((await store.findFamily(families[0]!.id))?.revokedReason, 'logout');
        assert.equal((await store.findFamily(bystander.id))?.revokedAt, null);
        assert.equal(await store.revokeAccountFamilies(a.id, T0 + 6, 'again'), 0);
      });

      it('listFamilies shows live sessions only, newest first', async () => {
        const a = await store.createAccount(newAccount());
        const now = T0 + DAY;
        const older = newFamily(a.id, { createdAt: T0 });
        const newer = newFamily(a.id, { createdAt: T0 + 1000 });
        const revoked = newFamily(a.id);
        const expired = newFamily(a.id, { expiresAt: now });
        const idle = newFamily(a.id, { idleExpiresAt: now - 1 });
        for (const f of [older, newer, revoked, expired, idle]) await store.createFamily(f);
        await store.revokeFamily(revoked.id, T0, 'logout');
        assert.deepEqual(await other.listFamilies(a.id, now), [asCreated(newer), asCreated(older)]);
        assert.deepEqual(await store.listFamilies(uniq('acc'), now), []);
      });
    });

    describe('signing keys', () => {
      // Keys are one global ring, so each key here is newer than every key before it.
      let clock = T0;
      const nextKey = (): SigningKeyRecord => signingKey(uniq('kid'), (clock += DAY));
      const active = async (s: Store) => (await s.listKeys()).filter((k) => k.retiredAt === null);

      it('addActiveKey retires the previous active key', async () => {
        const [k1, k2] = [nextKey(), nextKey()];
        await store.addActiveKey(k1);
        assert.deepEqual((await store.listKeys())[0], k1);
        await other.addActiveKey(k2);
        const keys = await store.listKeys();
        assert.deepEqual(keys.slice(0, 2), [k2, { ...k1, retiredAt: k2.createdAt }]);
        assert.deepEqual(await active(store), [k2]);
      });

      it('a duplicate kid is a UniqueViolation and leaves the ring unchanged', async () => {
        const k = nextKey();
        await store.addActiveKey(k);
        const before = await store.listKeys();
        await assert.rejects(store.addActiveKey({ ...nextKey(), kid: k.kid }), UniqueViolation);
        assert.deepEqual(await store.listKeys(), before);
      });

      it('two nodes rotating at once leave exactly one active key', async () => {
        const keys = Array.from({ length: 10 }, nextKey);
        await Promise.all(keys.map((k, i) => (i % 2 ? store : other).addActiveKey(k)));
        const listed = new Set((await store.listKeys()).map((k) => k.kid));
        assert.ok(keys.every((k) => listed.has(k.kid)));
        assert.equal((await active(other)).length, 1);
      });
    });

    describe('audit', () => {
      // A time range and usernames of their own keep these events apart from other tests' rows.
      const at = T0 + 1000 * DAY;
      const [alice, bob] = [uniq('alice'), uniq('bob')];
      const window = { since: at, until: at + 10_000 };
      const events = [
        auditEvent({ at, username: alice, type: 'login', detail: { attempt: 1, why: 'ok' } }),
        auditEvent({ at: at + 1000, username: bob, type: 'login', outcome: 'failed' }),
        auditEvent({ at: at + 2000, username: alice.toUpperCase(), type: 'refresh_reuse', outcome: 'detected', actor: 'cli' }),
        auditEvent({ at: at + 3000, username: null, accountId: null, clientIp: null, requestId: null, type: 'key_rotated', outcome: 'info' }),
        auditEvent({ at: at + 3000, username: alice, type: 'login', outcome: 'throttled' }),
      ];
      before(async () => {
        for (const e of events) await store.appendAudit(e);
      });

      it('listAudit returns every field, newest first, ties newest-inserted first', async () => {
        assert.deepEqual(await other.listAudit(window), [...events].reverse());
      });

      it('listAudit filters by username ignoring case, type and time range', async () => {
        assert.deepEqual(await store.listAudit({ username: alice.toUpperCase() }), [events[4], events[2], events[0]]);
        assert.deepEqual(await store.listAudit({ ...window, type: 'login' }), [events[4], events[1], events[0]]);
        assert.deepEqual(await store.listAudit({ since: at + 1000, until: at + 3000 }), [events[2], events[1]]);
        assert.deepEqual(await store.listAudit({ username: alice, type: 'login', since: at + 1 }), [events[4]]);
        assert.deepEqual(await store.listAudit({ username: uniq('nobody') }), []);
      });

      it('listAudit pages', async () => {
        assert.deepEqual(await store.listAudit({ ...window, limit: 2 }), [events[4], events[3]]);
        assert.deepEqual(await store.listAudit({ ...window, limit: 2, offset: 2 }), [events[2], events[1]]);
        assert.deepEqual(await store.listAudit({ ...window, offset: 4 }), [events[0]]);
      });
    });

    describe('throttle', () => {
      const WINDOW = 15 * MINUTE;

      it('throttleHit counts failures per key within a fixed window, in key order', async () => {
        const [a, b] = [uniq('ip|'), uniq('user|')];
        assert.deepEqual(await store.throttleHit([b, a], T0, WINDOW), [{ count: 1, windowStart: T0 }, { count: 1, windowStart: T0 }]);
        assert.deepEqual(await other.throttleHit([b], T0 + 10, WINDOW), [{ count: 2, windowStart: T0 }]);
        assert.deepEqual(await store.throttleHit([a, b], T0 + WINDOW - 1, WINDOW), [
          { count: 2, windowStart: T0 }, { count: 3, windowStart: T0 },
        ]);
      });

      it('a new window starts once the old one is over', async () => {
        const k = uniq('user|');
        await store.throttleHit([k], T0, WINDOW);
        await store.throttleHit([k], T0 + 1, WINDOW);
        assert.deepEqual(await store.throttleHit([k], T0 + WINDOW, WINDOW), [{ count: 1, windowStart: T0 + WINDOW }]);
        assert.deepEqual(await store.throttleGet([k]), [{ count: 1, windowStart: T0 + WINDOW }]);
      });

      it('throttleGet answers in key order with null for unknown keys; throttleClear removes', async () => {
        const [a, b, unknown] = [uniq('k'), uniq('k'), uniq('k')];
        await store.throttleHit([a], T0, WINDOW);
        await store.throttleHit([b, a], T0 + 5, WINDOW);
        assert.deepEqual(await other.throttleGet([unknown, a, b]), [null, { count: 2, windowStart: T0 }, { count: 1, windowStart: T0 + 5 }]);
        assert.deepEqual(await store.throttleGet([]), []);
        await store.throttleClear([a, unknown]);
        assert.deepEqual(await store.throttleGet([a, b]), [null, { count: 1, windowStart: T0 + 5 }]);
        await store.throttleClear([]);
      });

      it('throttleList shows running windows with at least `min` failures, newest first', async () => {
        // Later than every other throttle row here, so only this test's windows are running.
        const start = T0 + 1000 * DAY;
        const now = start + WINDOW;
        const [over, hot, warm, cold] = [uniq('over'), uniq('hot'), uniq('warm'), uniq('cold')];
        await store.throttleHit([over], start, WINDOW);
        for (let i = 0; i < 3; i++) await store.throttleHit([hot], start + 10, WINDOW);
        await store.throttleHit([hot, warm], start + 20, WINDOW);
        for (let i = 0; i < 2; i++) await store.throttleHit([warm], start + 20, WINDOW);
        await store.throttleHit([cold], start + 30, WINDOW);
        assert.deepEqual(await other.throttleList(now, WINDOW, 3), [
          { key: warm, state: { count: 3, windowStart: start + 20 } },
          { key: hot, state: { count: 4, windowStart: start + 10 } },
        ]);
        assert.deepEqual((await store.throttleList(now, WINDOW, 1)).map((e) => e.key), [cold, warm, hot]);
      });

      it('concurrent hits on two nodes all count, whatever order the keys come in', async () => {
        const [a, b] = [uniq('ip|'), uniq('user|')];
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? store : other).throttleHit(i % 4 < 2 ? [a, b] : [b, a], T0, WINDOW)),
        );
        const countsOfA = results.map((states, i) => states[i % 4 < 2 ? 0 : 1]!.count).sort((x, y) => x - y);
        assert.deepEqual(countsOfA, Array.from({ length: 40 }, (_, i) => i + 1));
        assert.deepEqual(await store.throttleGet([a, b]), [{ count: 40, windowStart: T0 }, { count: 40, windowStart: T0 }]);
      });
    });

    describe('purge', () => {
      const opts = { batch: 100, keepEndedMs: DAY, auditRetentionMs: 90 * DAY, throttleWindowMs: 15 * MINUTE };
      let now = T0 + 2000 * DAY;

      /** Purges everything already ended at `at`, so the counts that follow are this test's alone. */
      const drain = async (at: number): Promise<void> => {
        while ((await store.purge(at, opts)) > 0);
      };

      it('removes ended sessions with their tokens, stale throttle rows and old audit; keeps the rest', async () => {
        now += 100 * DAY;
        await drain(now);
        const acc = await store.createAccount(newAccount());
        const fam = (over: Partial<NewFamily>) => newFamily(acc.id, { createdAt: now - 3 * DAY, expiresAt: now + 20 * DAY, idleExpiresAt: now + DAY, ...over });
        const live = fam({});
        const expired = fam({ expiresAt: now - 2 * DAY });
        const idle = fam({ idleExpiresAt: now - 2 * DAY });
        const revoked = fam({});
        const justRevoked = fam({});
        const justExpired = fam({ expiresAt: now - 1000 });
        for (const f of [live, expired, idle, revoked, justRevoked, justExpired]) await store.createFamily(f);
        const rotated = rotation(expired, { now: now - 3 * DAY, idleExpiresAt: now + DAY });
        assert.equal(await store.rotate(rotated), true);
        await store.revokeFamily(revoked.id, now - 2 * DAY, 'logout');
        await store.revokeFamily(justRevoked.id, now - 1000, 'logout');
        const [stale, running] = [uniq('stale'), uniq('running')];
        await store.throttleHit([stale], now - 16 * MINUTE, opts.throttleWindowMs);
        await store.throttleHit([running], now - MINUTE, opts.throttleWindowMs);
        await store.appendAudit(auditEvent({ at: now - 91 * DAY }));
        await store.appendAudit(auditEvent({ at: now - 89 * DAY }));

        // 3 families with 4 tokens (one family was rotated once), 1 throttle row, 1 audit row.
        assert.equal(await other.purge(now, opts), 9);
        assert.equal(await store.purge(now, opts), 0);

        for (const f of [expired, idle, revoked]) {
          assert.equal(await store.findFamily(f.id), null);
          assert.equal(await store.findRefreshToken(f.currentHash), null);
        }
        assert.equal(await store.findRefreshToken(rotated.newHash), null);
        for (const f of [live, justRevoked, justExpired]) assert.notEqual(await store.findRefreshToken(f.currentHash), null);
        assert.deepEqual(await store.throttleGet([stale, running]), [null, { count: 1, windowStart: now - MINUTE }]);
        assert.deepEqual((await store.listAudit({ since: now - 100 * DAY })).map((e) => e.at), [now - 89 * DAY]);
        assert.notEqual(await store.findAccountById(acc.id), null);
      });

      it('removes at most `batch` families per call', async () => {
        now += 100 * DAY;
        await drain(now);
        const acc = await store.createAccount(newAccount());
        for (let i = 0; i < 5; i++) await store.createFamily(newFamily(acc.id, { expiresAt: now + 1 }));
        const later = now + 2 * DAY;
        const removed: number[] = [];
        for (let n = -1; n !== 0;) removed.push((n = await store.purge(later, { ...opts, batch: 2 })));
        // Each family goes with its one token.
        assert.deepEqual(removed, [4, 4, 2, 0]);
      });
    });
  });
}

describe('PostgresStore specifics', () => {
  let pg: TestPostgres;
  const stores: PostgresStore[] = [];
  const open = (url: string, opts?: ConstructorParameters<typeof PostgresStore>[1]): PostgresStore => {
    const s = new PostgresStore(url, opts);
    stores.push(s);
    return s;
  };

  before(async () => {
    pg = await postgresServer();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  it('isPostgresUrl recognises postgres URLs only; bad options are a TypeError', () => {
    assert.equal(isPostgresUrl('postgres://u@h/db'), true);
    assert.equal(isPostgresUrl('postgresql://u@h:5432/db?sslmode=require'), true);
    assert.equal(isPostgresUrl('./data/rcauth.db'), false);
    assert.equal(isPostgresUrl('sqlite:///x'), false);
    assert.throws(() => new PostgresStore('./data/rcauth.db'), TypeError);
    assert.throws(() => new PostgresStore('postgres://u@h/db', { statementTimeoutMs: 0 }), TypeError);
  });

  it('an unreachable database raises StoreUnavailable, not a hang', async () => {
    const s = open('postgres://postgres@127.0.0.1:1/none', { connectTimeoutMs: 500 });
    await assert.rejects(s.ping(), StoreUnavailable);
    await assert.rejects(s.migrate(), StoreUnavailable);
  });

  it('a statement stuck behind a lock fails with StoreUnavailable at the statement timeout', async () => {
    const url = await pg.createDatabase('pg_lock_timeout');
    const s = open(url, { statementTimeoutMs: 300 });
    await s.migrate();
    const acc = await s.createAccount(newAccount());
    const f = newFamily(acc.id);
    await s.createFamily(f);
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM refresh_tokens WHERE hash = $1 FOR UPDATE', [f.currentHash]);
      const started = Date.now();
      await assert.rejects(s.rotate(rotation(f)), StoreUnavailable);
      assert.ok(Date.now() - started < 2000);
      await holder.query('ROLLBACK');
      assert.equal(await s.rotate(rotation(f)), true);
    } finally {
      await holder.end();
    }
  });

  it('an outage raises StoreUnavailable within seconds and the store recovers by itself', async () => {
    const url = await pg.createDatabase('pg_outage');
    const s = open(url, { poolSize: 6 });
    await s.migrate();
    const acc = await s.createAccount(newAccount());
    const f = newFamily(acc.id);
    await s.createFamily(f);
    // Fill the pool with idle connections, which the shutdown will kill.
    await Promise.all(Array.from({ length: 5 }, () => s.ping()));
    // One checked out between two queries, whose socket dies while nobody listens on it.
    const checkedOut = await s.pool.connect();
    // And keep one busy: a rotation waiting on a row lock when the server goes away.
    const holder = new Client({ connectionString: url });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM refresh_tokens WHERE hash = $1 FOR UPDATE', [f.currentHash]);
    // Settled into a value at once, so its rejection is not reported as unhandled while we wait.
    const blocked = s.rotate(rotation(f)).then(() => null, (err: unknown) => err);
    while (Number((await holder.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].n) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await pg.pause();
    try {
      const started = Date.now();
      assert.ok((await blocked) instanceof StoreUnavailable);
      await assert.rejects(s.ping(), StoreUnavailable);
      await assert.rejects(s.findAccountById(acc.id), StoreUnavailable);
      await assert.rejects(s.createAccount(newAccount()), StoreUnavailable);
      assert.ok(Date.now() - started < 5000, 'StoreUnavailable within 5 s');
    } finally {
      await holder.end().catch(() => {});
      checkedOut.release(true);
      await pg.resume();
    }
    await s.ping();
    assert.equal((await s.findAccountById(acc.id))?.username, acc.username);
    // The interrupted rotation was rolled back: the token is still unused and rotates now.
    assert.equal(await s.rotate(rotation(f)), true);
  });
});
