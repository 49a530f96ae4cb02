import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyRing } from '../../src/core/keys.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

// Regression: three nodes started together on an empty PostgreSQL each made a first
// key; a node then refused the others' tokens until its next 5 s reload.
describe('key ring: a kid made by another node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is found at once by rereading the store, at most once a second', async () => {
    let now = Date.UTC(2026, 0, 1);
    const opts = { alg: 'RS256' as const, masterKey: '', accessTtlMs: 3_600_000, now: () => now };
    const storeA = new SqliteStore(join(dir, 'k.db'));
    const storeB = new SqliteStore(join(dir, 'k.db'));
    await storeA.migrate();
    const a = new KeyRing(storeA, opts);
    const b = new KeyRing(storeB, opts);
    await a.load();
    await b.load();
    const made = await b.rotate();
    assert.equal(a.find(made.kid), null, 'node A has not reloaded yet');
    assert.ok(await a.resolve(made.kid), 'an unknown kid rereads the store');

    let reads = 0;
    const listKeys = storeA.listKeys.bind(storeA);
    storeA.listKeys = () => {
      reads++;
      return listKeys();
    };
    now += 1500;
    assert.equal(await a.resolve('made-up-kid-1'), null);
    assert.equal(await a.resolve('made-up-kid-2'), null);
    assert.equal(reads, 1, 'made-up kids cost one reread per second, not one each');
    await storeA.close();
    await storeB.close();
  });
});
