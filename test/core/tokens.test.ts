import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { KeyRing, type SigningAlg } from '../../src/core/keys.js';
import { TokenIssuer } from '../../src/core/tokens.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

// The issuer assembles the JWS itself (node:crypto signs), so every algorithm a key
// can have must come out as a token jose accepts with that algorithm pinned.
describe('TokenIssuer signs tokens that verify with their key and algorithm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-tokens-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const alg of ['RS256', 'ES256'] as SigningAlg[]) {
    it(alg, async () => {
      const now = Date.UTC(2026, 0, 1);
      const store = new SqliteStore(join(dir, `${alg}.db`));
      await store.migrate();
      try {
        const keys = new KeyRing(store, { alg, masterKey: '', accessTtlMs: 3_600_000, now: () => now });
        await keys.load();
        const issuer = new TokenIssuer(keys, { audience: 'api://default', accessTtl: 3600, profile: 'recoveryconnect' });
        const { token, claims } = await issuer.issue({
          issuer: 'http://127.0.0.1', clientId: 'client', accountId: 'acc-1', username: 'ünï@example.com',
          scopes: ['a', 'b'], authTime: now / 1000, now, tokensValidAfter: 0,
        });
        const header = decodeProtectedHeader(token);
        assert.equal(header.alg, alg);
        const key = keys.find(String(header.kid));
        assert.ok(key, 'the kid names a key of the ring');
        const verified = await jwtVerify(token, key.key, {
          algorithms: [alg], issuer: 'http://127.0.0.1', audience: 'api://default', currentDate: new Date(now),
        });
        assert.deepEqual(verified.payload, claims);
      } finally {
        await store.close();
      }
    });
  }
});
