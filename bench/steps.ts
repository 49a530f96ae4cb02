/**
 * Where a login and a refresh spend their time: each step of the two grants
 * timed on its own, one at a time, in one process, against a real SQLite file
 * in WAL mode — every write under synchronous=NORMAL (the default) and FULL
 * (an fsync per commit), and a rotation with its audit row in one transaction,
 * to price the commits. Not part of `npm run bench`; run it when changing the
 * core or the store:
 *
 *   node --import tsx bench/steps.ts [--iterations 300]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/load.js';
import { hashSecret, randomToken } from '../src/core/crypto.js';
import { createCore } from '../src/core/index.js';
import { coreOptions } from '../src/runtime.js';
import { SqliteStore } from '../src/store/sqlite/index.js';

const { values: flags } = parseArgs({ options: { iterations: { type: 'string', default: '300' } } });
const N = Number(flags.iterations);

interface Stat { step: string; meanUs: number; p50Us: number; p99Us: number }

async function time(step: string, fn: (i: number) => unknown): Promise<Stat> {
  const xs: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await fn(i);
    xs.push((performance.now() - t0) * 1000);
  }
  xs.sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { step, meanUs: Math.round(mean), p50Us: Math.round(xs[Math.floor(xs.length / 2)]!), p99Us: Math.round(xs[Math.floor(xs.length * 0.99)]!) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-steps-'));
  const store = new SqliteStore(join(dir, 'rcauth.db'));
  try {
    await store.migrate();
    const config = defaultConfig({ dataDir: dir });
    const core = await createCore(store, coreOptions(config));
    const password = 'Steps-Password-0123456789';
    const { account } = await core.accounts.create('steps.user', password, undefined, { actor: 'bench' });
    const ctx = { issuer: 'http://127.0.0.1:8080', clientIp: '127.0.0.1', userAgent: 'steps', requestId: null };
    const stats: Stat[] = [];

    let token = (await core.sessions.passwordGrant('steps.user', password, undefined, ctx)).refresh_token;

    // The steps of a login and a refresh that need no write.
    stats.push(await time('login: throttle check (read)', () => core.throttle.check('steps.user', '127.0.0.1', Date.now())));
    stats.push(await time('login: find account (read)', () => store.findAccountByUsername('steps.user')));
    stats.push(await time('login: argon2id verify (libuv pool)', () => core.hasher.verify(account.passwordHash, password)));
    stats.push(await time('login: throttle clear (write, no row)', () => core.throttle.succeeded('steps.user', '127.0.0.1')));
    const { TokenIssuer } = await import('../src/core/tokens.js');
    const issuer = new TokenIssuer(core.keys, { audience: 'api://default', accessTtl: 3600, profile: 'recoveryconnect' });
    stats.push(await time('both: sign access token (jose, WebCrypto on the pool)', () => issuer.issue({
      issuer: ctx.issuer, clientId: core.clientId, accountId: account.id, username: account.username, scopes: ['openid'], authTime: 1, now: Date.now(), tokensValidAfter: 0,
    })));

    // The writes, under both durability settings.
    const families: string[] = [];
    const current = new Map<string, string>();
    const newFamily = () => {
      const id = `f-${randomToken(8)}`;
      const at = Date.now();
      const currentHash = hashSecret(randomToken(32));
      families.push(id);
      current.set(id, currentHash);
      return store.createFamily({
        id, accountId: account.id, clientId: core.clientId, scopes: ['openid'], authTime: Math.floor(at / 1000), createdAt: at, lastUsedAt: at,
        expiresAt: at + 3_600_000, idleExpiresAt: at + 3_600_000, currentHash, clientIp: '127.0.0.1', userAgent: null,
      });
    };
    const rotate = (i: number) => {
      const f = families[i % families.length]!;
      const oldHash = current.get(f)!;
      const newHash = hashSecret(randomToken(32));
      current.set(f, newHash);
      return store.rotate({ familyId: f, oldHash, newHash, now: Date.now(), idleExpiresAt: Date.now() + 3_600_000, graceResponse: null, graceUntil: null });
    };
    const audit = () => core.audit.record({ type: 'refresh', outcome: 'ok', accountId: account.id, clientIp: '127.0.0.1' });
    for (const mode of ['NORMAL', 'FULL'] as const) {
      store.db.pragma(`synchronous = ${mode}`);
      const tag = `[${mode}]`;
      // A new value every time: an UPDATE that changes nothing writes nothing.
      stats.push(await time(`${tag} login: update last_login_at (commit)`, (i) => store.updateAccount(account.id, { lastLoginAt: Date.now() + i }, Date.now() + i)));
      stats.push(await time(`${tag} login: create family (commit)`, newFamily));
      stats.push(await time(`${tag} both: audit record (commit)`, audit));
      stats.push(await time(`${tag} refresh: find token + family (read)`, (i) => store.findRefreshToken(current.get(families[i % families.length]!)!)));
      stats.push(await time(`${tag} refresh: rotate (transaction, commit)`, rotate));
      // What one commit per refresh would cost: the store's own rotate and audit
      // calls inside one outer transaction (better-sqlite3 nests them as savepoints).
      stats.push(await time(`${tag} refresh: rotate + audit in one transaction`, (i) => store.db.transaction(() => {
        void rotate(i);
        void audit();
      }).immediate()));
      stats.push(await time(`${tag} refresh: whole refreshGrant`, async () => {
        token = (await core.sessions.refreshGrant(token, ctx)).refresh_token;
      }));
      stats.push(await time(`${tag} login: whole passwordGrant`, () => core.sessions.passwordGrant('steps.user', password, undefined, ctx)));
    }

    const width = Math.max(...stats.map((s) => s.step.length));
    console.log(`${'step'.padEnd(width)}  mean µs   p50 µs   p99 µs   (${N} iterations, sequential, ${dir})`);
    for (const s of stats) console.log(`${s.step.padEnd(width)}  ${String(s.meanUs).padStart(7)}  ${String(s.p50Us).padStart(7)}  ${String(s.p99Us).padStart(7)}`);
    console.log(JSON.stringify(stats));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`steps: ${err.stack ?? err.message}`);
  process.exit(1);
});
