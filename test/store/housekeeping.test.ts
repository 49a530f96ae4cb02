import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { createCore } from '../../src/core/index.js';
import type { Store } from '../../src/core/store.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { coreOptions } from '../../src/runtime.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const DAY = 86_400_000;
const ctx = { issuer: 'http://127.0.0.1', clientIp: '10.0.0.1', userAgent: null, requestId: null };

async function countRows(store: Store): Promise<{ families: number; tokens: number }> {
  if (store instanceof SqliteStore) {
    const n = (sql: string) => Number((store.db.prepare(sql).get() as { n: number }).n);
    return { families: n('SELECT COUNT(*) AS n FROM families'), tokens: n('SELECT COUNT(*) AS n FROM refresh_tokens') };
  }
  const pool = (store as PostgresStore).pool;
  const n = async (sql: string) => Number((await pool.query(sql)).rows[0].n);
  return { families: await n('SELECT COUNT(*) AS n FROM families'), tokens: await n('SELECT COUNT(*) AS n FROM refresh_tokens') };
}

/**
 * Thirty simulated days of traffic with a moved clock: 20 logins and their
 * refreshes every day, sessions that live two days. With the background purge
 * running daily the tables stay at the size of the live sessions.
 */
async function simulate(store: Store): Promise<number[]> {
  let now = Date.UTC(2026, 0, 1);
  await store.migrate();
  const config = defaultConfig({ refreshTtl: 2 * 86_400, refreshIdleTtl: 86_400, argon2Memory: 19456, argon2Time: 2 });
  const core = await createCore(store, coreOptions(config), { now: () => now });
  await core.accounts.create('hk-user', 'hk-user-password-1', undefined, { actor: 'test' });
  const sizes: number[] = [];
  for (let day = 0; day < 30; day++) {
    for (let i = 0; i < 20; i++) {
      let t = await core.sessions.passwordGrant('hk-user', 'hk-user-password-1', undefined, ctx);
      for (let r = 0; r < 3; r++) t = await core.sessions.refreshGrant(t.refresh_token, ctx);
      if (i % 5 === 0) await core.sessions.revokeRefreshToken(t.refresh_token, ctx);
    }
    now += DAY;
    while ((await store.purge(now, { batch: 50, keepEndedMs: 0, auditRetentionMs: 7 * DAY, throttleWindowMs: 900_000 })) > 0);
    sizes.push((await countRows(store)).tokens);
  }
  return sizes;
}

describe('background purge keeps the store at the size of live sessions', () => {
  let pg: TestPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-hk-'));
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const dialect of ['sqlite', 'postgres'] as const) {
    it(dialect, async () => {
      const store = dialect === 'sqlite' ? new SqliteStore(join(dir, 'hk.db')) : new PostgresStore(await pg.createDatabase('housekeeping'));
      try {
        const sizes = await simulate(store);
        // 600 sessions and 2400 refresh tokens were made; live at any time: at most two days' worth.
        const live = 2 * 20 * 4;
        assert.ok(Math.max(...sizes) <= live, `token rows stay ≤ ${live}: ${sizes.join(',')}`);
        assert.ok(sizes.at(-1)! <= sizes[5]!, 'no growth with history');
        const rows = await countRows(store);
        assert.ok(rows.families <= 40, `families ${rows.families}`);
      } finally {
        await store.close();
      }
    });
  }
});
