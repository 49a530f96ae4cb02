import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PasswordHasher, passwordProblem } from '../../src/core/passwords.js';
import { seal, unseal, safeEqual, hashSecret } from '../../src/core/crypto.js';

describe('passwords and secrets', () => {
  it('applies the policy exactly to what was received', () => {
    assert.match(passwordProblem('short', 12)!, /at least 12/);
    assert.match(passwordProblem('password1234', 12)!, /common/);
    assert.match(passwordProblem('aaaaaaaaaaaaaa', 12)!, /common/);
    assert.match(passwordProblem('x'.repeat(1025), 12)!, /1024 bytes/);
    assert.equal(passwordProblem('correct horse battery', 12), null);
    const varied = Array.from({ length: 1024 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join('');
    assert.equal(passwordProblem(varied, 12), null, '1024 bytes exactly is allowed');
    assert.match(passwordProblem(`${varied}x`, 12)!, /1024 bytes/);
  });

  it('hashes with argon2id at OWASP parameters and flags weaker hashes for upgrade', async () => {
    const strong = new PasswordHasher({ memoryCost: 19456, timeCost: 3, parallelism: 1 });
    const weak = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const h = await weak.hash('pw-1234567890');
    assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await weak.verify(h, 'pw-1234567890'), true);
    assert.equal(await weak.verify(h, 'pw-1234567891'), false);
    assert.equal(strong.needsRehash(h), true);
    assert.equal(weak.needsRehash(h), false);
    assert.equal(await strong.dummyVerify('x'), false);
  });

  it('seals so that only the right secret opens', () => {
    const s = seal('{"a":1}', 'token-one', 'info');
    assert.equal(unseal(s, 'token-one', 'info'), '{"a":1}');
    assert.equal(unseal(s, 'token-two', 'info'), null);
    assert.equal(unseal(`${s.slice(0, -2)}AA`, 'token-one', 'info'), null);
    assert.ok(safeEqual('abc', 'abc') && !safeEqual('abc', 'abd') && !safeEqual('abc', 'abcd'));
    assert.equal(hashSecret('x').length, 43);
  });
});
