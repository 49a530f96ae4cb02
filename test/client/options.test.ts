import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecoveryConnectClient, type RecoveryConnectClientOptions } from '../../src/client/index.js';

const valid: RecoveryConnectClientOptions = {
  baseUrl: 'https://api.mbsisystems.com',
  username: 'abctestuser',
  password: 'password@12345',
};

describe('client options', () => {
  it('applies the defaults', () => {
    const client = new RecoveryConnectClient(valid);
    assert.equal(client.baseUrl, 'https://api.mbsisystems.com');
    assert.equal(client.version, 'v140');
    assert.equal(client.username, 'abctestuser');
  });

  it('keeps a path prefix and drops trailing slashes', () => {
    assert.equal(new RecoveryConnectClient({ ...valid, baseUrl: 'https://h.example/rc//' }).baseUrl, 'https://h.example/rc');
    assert.equal(new RecoveryConnectClient({ ...valid, baseUrl: new URL('https://h.example') }).baseUrl, 'https://h.example');
  });

  const bad: Array<[string, Partial<Record<keyof RecoveryConnectClientOptions, unknown>>]> = [
    ['a relative baseUrl', { baseUrl: '/api' }],
    ['a non-http baseUrl', { baseUrl: 'ftp://h.example' }],
    ['credentials in baseUrl', { baseUrl: 'https://u:p@h.example' }],
    ['a query in baseUrl', { baseUrl: 'https://h.example/?a=1' }],
    ['an empty username', { username: '' }],
    ['a missing password', { password: undefined }],
    ['a version that is not a path segment', { version: '../admin' }],
    ['a zero timeout', { timeoutMs: 0 }],
    ['refreshAt above 1', { refreshAt: 1.5 }],
    ['refreshAt of 0', { refreshAt: 0 }],
    ['a fractional maxRetries', { maxRetries: 1.5 }],
    ['a negative maxBackoffMs', { maxBackoffMs: -1 }],
    ['a non-function fetch', { fetch: 'fetch' }],
    ['a non-function now', { now: 5 }],
  ];
  for (const [name, override] of bad) {
    it(`throws TypeError for ${name}`, () => {
      assert.throws(() => new RecoveryConnectClient({ ...valid, ...override } as RecoveryConnectClientOptions), TypeError);
    });
  }

  it('accepts Infinity as "no timeout"', () => {
    assert.doesNotThrow(() => new RecoveryConnectClient({ ...valid, timeoutMs: Infinity }));
  });

  it('does not echo the password in a validation error', () => {
    assert.throws(
      () => new RecoveryConnectClient({ ...valid, baseUrl: `https://u:${valid.password}@h.example` }),
      (error: unknown) => error instanceof TypeError && !error.message.includes(valid.password),
    );
  });
});
