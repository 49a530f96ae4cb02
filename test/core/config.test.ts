import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

describe('configuration', () => {
  it('resolves flag > environment > default and freezes', () => {
    const c = loadConfig({ port: '9000' }, { RCAUTH_PORT: '7000', RCAUTH_AUDIENCE: 'api://x' });
    assert.equal(c.port, 9000);
    assert.equal(c.audience, 'api://x');
    assert.equal(c.accessTtl, 3600);
    assert.ok(Object.isFrozen(c));
    assert.deepEqual(c.versions, ['v130', 'v140', 'v150']);
  });

  it('names the bad setting', () => {
    assert.throws(() => loadConfig({}, { RCAUTH_REFRESH_GRACE: '61' }), (e: Error) => e instanceof ConfigError && /--refresh-grace \(RCAUTH_REFRESH_GRACE\)/.test(e.message));
    assert.throws(() => loadConfig({ tokenProfile: 'okta' }, {}), /--token-profile/);
    assert.throws(() => loadConfig({ issuer: 'not a url' }, {}), /--issuer/);
    assert.throws(() => loadConfig({ tlsCert: 'a.pem' }, {}), /--tls-cert and --tls-key/);
    assert.throws(() => loadConfig({}, { RCAUTH_MASTER_KEY: 'short' }), /RCAUTH_MASTER_KEY/);
  });
});
