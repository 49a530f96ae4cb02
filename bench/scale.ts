/**
 * Scale figure (issue 4): login and refresh latency with 1,000,000 accounts and
 * 5,000,000 refresh tokens in the store, against the same store empty. Measured
 * at the service boundary (core + store, in process), where the store's indexes
 * are what can make a difference; HTTP adds the same constant to both.
 *
 *   npm run bench:scale                       # SQLite and a throwaway PostgreSQL
 *   npm run bench:scale -- --accounts 100000  # smaller
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../src/config/load.js';
import { createCore, type Core } from '../src/core/index.js';
import { hashSecret } from '../src/core/crypto.js';
import type { Store } from '../src/core/store.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { coreOptions } from '../src/runtime.js';
import { startPostgres } from '../test/helpers/postgres.js';

const { values: opts } = parseArgs({
  options: {
    accounts: { type: 'string', default: '1000000' },
    tokens: { type: 'string', default: '5000000' },
    samples: { type: 'string', default: '400' },
    only: { type: 'string' },
  },
});
const ACCOUNTS = Number(opts.accounts);
const TOKENS = Number(opts.tokens);
const SAMPLES = Number(opts.samples);
const LOGINS = Math.max(40, SAMPLES / 10);
const ctx = { issuer: 'http://127.0.0.1:8080', clientIp: '127.0.0.1', userAgent: 'bench', requestId: null };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Samples {
  login: number[];
  refresh: number[];
}

/** One round of sequential logins and refreshes (ms each), added to `into`. */
async function round(core: Core, into: Samples, logins: number, refreshes: number): Promise<void> {
  for (let i = 0; i < logins; i++) {
    const t0 = performance.now();
    await core.sessions.passwordGrant('bench-user', 'bench-user-password-1', undefined, ctx);
    into.login.push(performance.now() - t0);
  }
  let token = (await core.sessions.passwordGrant('bench-user', 'bench-user-password-1', undefined, ctx)).refresh_token;
  for (let i = 0; i < refreshes; i++) {
    const t0 = performance.now();
    token = (await core.sessions.refreshGrant(token, ctx)).refresh_token;
    into.refresh.push(performance.now() - t0);
  }
}

const summary = (s: Samples) => ({ loginP50: pct(s.login, 50), loginP99: pct(s.login, 99), refreshP50: pct(s.refresh, 50), refreshP99: pct(s.refresh, 99) });

/** Bulk rows that look like real ones: one account per row, five tokens per family (four used). */
async function fill(store: Store, passwordHash: string, url: string | null): Promise<void> {
  const now = Date.now();
  const families = Math.ceil(TOKENS / 5);
  if (store instanceof SqliteStore) {
    const db = store.db;
    db.pragma('synchronous = OFF');
    const acc = db.prepare('INSERT INTO accounts (id, username, username_key, password_hash, scopes, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)');
    const fam = db.prepare(`INSERT INTO families (id, account_id, client_id, scopes, auth_time, created_at, last_used_at, expires_at, idle_expires_at, current_hash)
      VALUES (?, ?, 'bench', '["openid"]', ?, ?, ?, ?, ?, ?)`);
    const tok = db.prepare('INSERT INTO refresh_tokens (hash, family_id, created_at, used_at) VALUES (?, ?, ?, ?)');
    const chunk = 100_000;
    for (let start = 0; start < ACCOUNTS; start += chunk) {
      db.transaction(() => {
        for (let i = start; i < Math.min(ACCOUNTS, start + chunk); i++) acc.run(`acct-${i}`, `user${i}`, `user${i}`, passwordHash, '["openid"]', now, now);
      })();
    }
    for (let start = 0; start < families; start += chunk) {
      db.transaction(() => {
        for (let f = start; f < Math.min(families, start + chunk); f++) {
          const hashes = [0, 1, 2, 3, 4].map((k) => hashSecret(`bench-${f}-${k}`));
          fam.run(`fam-${f}`, `acct-${f % ACCOUNTS}`, Math.floor(now / 1000), now, now, now + 30 * 864e5, now + 7 * 864e5, hashes[4]);
          hashes.forEach((h, k) => tok.run(h, `fam-${f}`, now, k < 4 ? now : null));
        }
      })();
    }
    db.pragma('synchronous = FULL');
    db.exec('ANALYZE');
    return;
  }
  // The store's connections time out after seconds by design; a bulk load needs minutes.
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url! });
  await client.connect();
  try {
    await client.query('SET statement_timeout = 0');
    await client.query(`INSERT INTO accounts (id, username, username_key, password_hash, scopes, disabled, created_at, updated_at)
      SELECT 'acct-' || i, 'user' || i, 'user' || i, $1::text, '["openid"]', false, $2::bigint, $2::bigint FROM generate_series(0, $3::int - 1) i`, [passwordHash, now, ACCOUNTS]);
    await client.query(`INSERT INTO families (id, account_id, client_id, scopes, auth_time, created_at, last_used_at, expires_at, idle_expires_at, current_hash)
      SELECT 'fam-' || f, 'acct-' || (f % $2::int), 'bench', '["openid"]', $1::bigint / 1000, $1::bigint, $1::bigint, $1::bigint + 2592000000, $1::bigint + 604800000, md5('bench-' || f || '-4')
      FROM generate_series(0, $3::int - 1) f`, [now, ACCOUNTS, families]);
    await client.query(`INSERT INTO refresh_tokens (hash, family_id, created_at, used_at)
      SELECT md5('bench-' || f || '-' || k), 'fam-' || f, $1::bigint, CASE WHEN k < 4 THEN $1::bigint END
      FROM generate_series(0, $2::int - 1) f, generate_series(0, 4) k`, [now, families]);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function run(dialect: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-scale-'));
  const pg = dialect === 'postgres' ? await startPostgres() : null;
  const stores: Store[] = [];
  try {
    const cores: Record<'empty' | 'full', Core> = {} as never;
    for (const size of ['empty', 'full'] as const) {
      const url = pg ? await pg.createDatabase(`scale_${size}`) : null;
      const store = url ? new PostgresStore(url) : new SqliteStore(join(dir, `scale_${size}.db`));
      stores.push(store);
      await store.migrate();
      const core = await createCore(store, coreOptions(defaultConfig()));
      const { account } = await core.accounts.create('bench-user', 'bench-user-password-1', undefined, { actor: 'bench' });
      if (size === 'full') {
        const t0 = performance.now();
        await fill(store, account.passwordHash, url);
        console.log(`${dialect}: filled ${ACCOUNTS} accounts, ${TOKENS} refresh tokens in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
      cores[size] = core;
    }
    // Alternate empty and full in rounds so that any load on the machine hits both alike.
    const samples: Record<'empty' | 'full', Samples> = { empty: { login: [], refresh: [] }, full: { login: [], refresh: [] } };
    const rounds = 8;
    for (let r = 0; r < rounds; r++) {
      for (const size of ['empty', 'full'] as const) await round(cores[size], samples[size], Math.ceil(LOGINS / rounds), Math.ceil(SAMPLES / rounds));
    }
    const empty = summary(samples.empty);
    const full = summary(samples.full);
    return { dialect, empty, full, ratio: { login: full.loginP50 / empty.loginP50, refresh: full.refreshP50 / empty.refreshP50 } };
  } finally {
    for (const s of stores) await s.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const dialects = opts.only ? [opts.only as 'sqlite' | 'postgres'] : (['sqlite', 'postgres'] as const);
const out = [];
for (const d of dialects) {
  const r = await run(d);
  out.push(r);
  console.log(JSON.stringify(r));
}
const f = (n: number) => n.toFixed(2);
const md = [
  `# Scale benchmark`, '',
  `\`npm run bench:scale\` — ${ACCOUNTS.toLocaleString('en')} accounts and ${TOKENS.toLocaleString('en')} refresh tokens against an empty store;`,
  `sequential calls at the service boundary (core + store), ${SAMPLES} refreshes and ${LOGINS} logins each, empty and full alternating in 8 rounds, p50/p99 in ms. Goal: ratio ≤ 1.5.`, '',
  '| store | login p50 empty | login p50 full | refresh p50 empty | refresh p50 full | refresh p99 empty | refresh p99 full | login ratio | refresh ratio |',
  '|---|---|---|---|---|---|---|---|---|',
  ...out.map((r) => `| ${r.dialect} | ${f(r.empty!.loginP50)} | ${f(r.full!.loginP50)} | ${f(r.empty!.refreshP50)} | ${f(r.full!.refreshP50)} | ${f(r.empty!.refreshP99)} | ${f(r.full!.refreshP99)} | ${f(r.ratio.login)} | ${f(r.ratio.refresh)} |`),
  '',
];
writeFileSync(new URL('./scale-results.md', import.meta.url), md.join('\n'));
console.log(md.join('\n'));
