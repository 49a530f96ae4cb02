// Header rewriting in both directions, with fixed inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientResponseHeaders, headerValue, upstreamRequestHeaders, type ForwardContext } from '../../src/gateway/headers.js';
import type { AccessTokenClaims } from '../../src/verify/check.js';

const claims: AccessTokenClaims = {
  ver: 1, jti: 'AT.x', iss: 'http://127.0.0.1:8080', aud: 'api://default', iat: 1, exp: 2,
  cid: 'client-1', uid: 'u-123', scp: ['openid', 'profile'], sub: 'alice', auth_time: 1,
} as AccessTokenClaims;

const ctx = (over: Partial<ForwardContext> = {}): ForwardContext => ({
  claims, requestId: 'req-1', peerAddress: '10.0.0.9', protocol: 'http', host: 'gw.example:8080', trustProxy: false, ...over,
});

describe('upstreamRequestHeaders', () => {
  it('adds the identity and removes every caller copy, whatever the spelling', () => {
    const out = upstreamRequestHeaders({
      'x-auth-subject': 'evil', 'x-auth-scopes': 'rcauth:admin', 'x_auth_user_id': 'u-0', 'X_AUTH_CLIENT_ID': 'c', 'x-auth-other': 'kept',
      accept: 'application/json',
    }, ctx());
    assert.equal(out['x-auth-subject'], 'alice');
    assert.equal(out['x-auth-user-id'], 'u-123');
    assert.equal(out['x-auth-client-id'], 'client-1');
    assert.equal(out['x-auth-scopes'], 'openid profile');
    assert.equal(out['x_auth_user_id'], undefined);
    assert.equal(out['X_AUTH_CLIENT_ID'], undefined);
    assert.equal(out['x-auth-other'], 'kept');
    assert.equal(out.accept, 'application/json');
  });

  it('does not forward the Authorization header, hop-by-hop headers or the caller\'s request id', () => {
    const out = upstreamRequestHeaders({
      authorization: 'Bearer abc', 'proxy-authorization': 'Basic x', 'keep-alive': 'timeout=5', upgrade: 'websocket', te: 'trailers',
      expect: '100-continue', 'x-request-id': 'mine', 'content-type': 'text/plain', 'content-length': '3',
    }, ctx());
    for (const h of ['authorization', 'proxy-authorization', 'keep-alive', 'upgrade', 'te', 'expect']) assert.equal(out[h], undefined, h);
    assert.equal(out['x-request-id'], 'req-1');
    assert.equal(out['content-type'], 'text/plain');
    assert.equal(out['content-length'], '3');
  });

  it('replaces caller forwarding headers unless the proxy in front is trusted', () => {
    const spoof = { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4', 'x-real-ip': '1.2.3.4' };
    const plain = upstreamRequestHeaders(spoof, ctx());
    assert.equal(plain['x-forwarded-for'], '10.0.0.9');
    assert.equal(plain.forwarded, undefined);
    assert.equal(plain['x-real-ip'], undefined);
    assert.equal(plain['x-forwarded-proto'], 'http');
    assert.equal(plain['x-forwarded-host'], 'gw.example:8080');
    const trusted = upstreamRequestHeaders(spoof, ctx({ trustProxy: true }));
    assert.equal(trusted['x-forwarded-for'], '1.2.3.4, 10.0.0.9');
    assert.equal(trusted.forwarded, 'for=1.2.3.4');
  });

  it('encodes a non-ASCII subject so it survives the wire and decodes back', () => {
    const out = upstreamRequestHeaders({}, ctx({ claims: { ...claims, sub: 'José 100%' } }));
    assert.equal(out['x-auth-subject'], 'Jos%C3%A9 100%25');
    assert.equal(decodeURIComponent(out['x-auth-subject'] as string), 'José 100%');
  });
});

describe('headerValue', () => {
  it('leaves printable ASCII alone and encodes everything else', () => {
    assert.equal(headerValue('alice smith'), 'alice smith');
    assert.equal(headerValue('a\r\nx-evil: 1'), 'a%0D%0Ax-evil: 1');
    assert.equal(headerValue('用户'), '%E7%94%A8%E6%88%B7');
    assert.equal(headerValue('\ud800'), '%EF%BF%BD');
  });
});

describe('clientResponseHeaders', () => {
  it('drops hop-by-hop headers and those the upstream lists in Connection', () => {
    const out = clientResponseHeaders({
      connection: 'keep-alive, x-internal', 'keep-alive': 'timeout=5', 'x-internal': '1', 'transfer-encoding': 'chunked',
      'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'],
    });
    assert.deepEqual(out, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
  });
});
