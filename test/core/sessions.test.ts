import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCore, type Core } from '../../src/core/index.js';
import { InvalidGrant } from '../../src/core/errors.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { coreOptions } from '../../src/runtime.js';
import { defaultConfig } from '../../src/config/load.js';

const ctx = { issuer: 'http://127.0.0.1:8080', clientIp: '127.0.0.1', userAgent: 'test', requestId: 'r1' };
const MIN = 60_000;

describe('session lifetimes with a moved clock', () => {
  let core: Core;
  let now = Date.UTC(2026, 0, 1);
  const store = new SqliteStore(':memory:');

  before(async () => {
    await store.migrate();
    const config = defaultConfig({ refreshTtl: 3600, refreshIdleTtl: 600, refreshGrace: 10 });
    core = await createCore(store, coreOptions(config), { now: () => now });
    await core.accounts.create('zoe', 'zoe-password-long-1', undefined, { actor: 'test' });
  });
  after(() => store.close());

  it('ends a session after the idle time', async () => {
    const t = await core.sessions.passwordGrant('zoe', 'zoe-password-long-1', undefined, ctx);
    now += 9 * MIN;
    const r = await core.sessions.refreshGrant(t.refresh_token, ctx);
    now += 9 * MIN; // idle clock restarted at the refresh
    const r2 = await core.sessions.refreshGrant(r.refresh_token, ctx);
    now += 11 * MIN;
    await assert.rejects(core.sessions.refreshGrant(r2.refresh_token, ctx), InvalidGrant);
  });

  it('ends a session at its absolute lifetime however active', async () => {
    const t = await core.sessions.passwordGrant('zoe', 'zoe-password-long-1', undefined, ctx);
    let token = t.refresh_token;
    for (let i = 0; i < 11; i++) {
      now += 5 * MIN;
      token = (await core.sessions.refreshGrant(token, ctx)).refresh_token;
    }
    now += 5 * MIN + 1; // 60 min + 1 ms after the login
    await assert.rejects(core.sessions.refreshGrant(token, ctx), InvalidGrant);
  });

  it('replays within the grace window only, then counts as reuse', async () => {
    const t = await core.sessions.passwordGrant('zoe', 'zoe-password-long-1', undefined, ctx);
    const a = await core.sessions.refreshGrant(t.refresh_token, ctx);
    now += 9_000;
    assert.deepEqual(await core.sessions.refreshGrant(t.refresh_token, ctx), a);
    now += 2_000; // 11 s after the rotation: outside the 10 s window
    await assert.rejects(core.sessions.refreshGrant(t.refresh_token, ctx), InvalidGrant);
    await assert.rejects(core.sessions.refreshGrant(a.refresh_token, ctx), InvalidGrant, 'reuse ended the family');
    const reuse = await store.listAudit({ type: 'refresh_reuse' });
    assert.ok(reuse.length >= 1);
  });

  it('issues tokens after a revocation with iat at or past the revocation', async () => {
    const at = now + 400; // mid-second
    now = at;
    await core.accounts.revokeSessions('zoe', { actor: 'test' });
    const t = await core.sessions.passwordGrant('zoe', 'zoe-password-long-1', undefined, ctx);
    const iat = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).iat as number;
    assert.ok(iat * 1000 >= at);
    const result = await core.inspector.introspect(t.access_token, ctx.issuer);
    assert.equal(result.active, true);
  });
});
