// RFC 6750 on the wire: parsing the Authorization header (§2.1), the
// WWW-Authenticate challenge (§3) and scope checks (§3.1 insufficient_scope).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenError, errorResponse, hasScope, parseBearer, requireScope, wwwAuthenticate } from '../../src/verify/index.js';
import { expectTokenError } from './fixtures.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_';

describe('parseBearer', () => {
  it('returns the token, the scheme in any case', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      assert.equal(parseBearer(`${scheme} ${TOKEN}`), TOKEN);
    }
  });

  it('accepts the whole b64token alphabet with trailing "="', () => {
    const token = 'Az09-._~+/==';
    assert.equal(parseBearer(`Bearer ${token}`), token);
  });

  it('returns null when there are no bearer credentials', () => {
    assert.equal(parseBearer(undefined), null);
    assert.equal(parseBearer(''), null);
    assert.equal(parseBearer('Basic dXNlcjpwYXNz'), null);
    assert.equal(parseBearer('Bearertoken'), null);
  });

  const malformed = [
    'Bearer',
    'Bearer ',
    'Bearer   ',
    `Bearer  ${TOKEN}`, // two spaces
    `Bearer\t${TOKEN}`,
    `Bearer ${TOKEN} `,
    `Bearer ${TOKEN} extra`,
    `Bearer ${TOKEN},`,
    'Bearer a=b', // "=" only at the end
    'Bearer =abc',
    'Bearer "abc"',
    'Bearer abc\n',
    'Bearer tökén',
    `Bearer ${'a'.repeat(9000)}`,
  ];
  for (const header of malformed) {
    it(`throws invalid_token for ${JSON.stringify(header.slice(0, 30))}`, () => {
      assert.throws(() => parseBearer(header), expectTokenError('invalid_token'));
    });
  }

  it('never echoes the header in the error', () => {
    const err = (() => {
      try {
        parseBearer('Bearer secret-value extra');
      } catch (e) {
        return e as TokenError;
      }
      return undefined;
    })();
    assert.ok(err instanceof TokenError);
    assert.equal(err.status, 401);
    assert.ok(!err.message.includes('secret-value'));
  });
});

describe('wwwAuthenticate (RFC 6750 §3)', () => {
  it('is the bare challenge for a missing token', () => {
    assert.equal(wwwAuthenticate(undefined, 'api'), 'Bearer realm="api"');
    assert.equal(wwwAuthenticate(), 'Bearer');
    const missing = new TokenError('invalid_token', 'a bearer token is required', { missing: true });
    assert.equal(wwwAuthenticate(missing, 'api'), 'Bearer realm="api"');
  });

  it('carries error and error_description for an invalid token', () => {
    const err = new TokenError('invalid_token', 'token expired');
    assert.equal(wwwAuthenticate(err, 'api'), 'Bearer realm="api", error="invalid_token", error_description="token expired"');
    assert.equal(wwwAuthenticate(err), 'Bearer error="invalid_token", error_description="token expired"');
  });

  it('adds scope for insufficient_scope', () => {
    const err = new TokenError('insufficient_scope', 'the access token lacks a required scope', { scope: 'orders:read orders:write' });
    assert.equal(
      wwwAuthenticate(err, 'api'),
      'Bearer realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="orders:read orders:write"',
    );
  });

  it('keeps quoted-strings valid: drops " and \\ from descriptions, escapes the realm', () => {
    const err = new TokenError('invalid_token', 'bad "kid" \\ here\n');
    assert.equal(wwwAuthenticate(err, 'my "api"'), 'Bearer realm="my \\"api\\"", error="invalid_token", error_description="bad kid  here"');
  });

  it('has no error code for temporarily_unavailable (not a Bearer error, RFC 6750 §6.2)', () => {
    assert.equal(wwwAuthenticate(new TokenError('temporarily_unavailable', 'signing keys unavailable'), 'api'), 'Bearer realm="api"');
  });
});

describe('errorResponse', () => {
  it('401 with challenge and JSON body', () => {
    const res = errorResponse(new TokenError('invalid_token', 'token expired'), 'api');
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { error: 'invalid_token', error_description: 'token expired' });
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="api", error="invalid_token", error_description="token expired"');
  });

  it('503 with Retry-After and no challenge', () => {
    const res = errorResponse(new TokenError('temporarily_unavailable', 'signing keys unavailable'));
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.headers['www-authenticate'], undefined);
  });
});

describe('requireScope', () => {
  const claims = { scp: ['openid', 'orders:read'] };

  it('passes when every scope is granted', () => {
    requireScope(claims, 'orders:read');
    requireScope(claims, ['openid', 'orders:read']);
    assert.equal(hasScope(claims, ['openid', 'orders:write']), false);
  });

  it('throws 403 insufficient_scope naming the needed scopes', () => {
    assert.throws(() => requireScope(claims, ['orders:read', 'orders:write']), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'insufficient_scope');
      assert.equal(err.status, 403);
      assert.equal(err.scope, 'orders:read orders:write');
      return true;
    });
  });

  it('does not match scope prefixes or a space-joined string', () => {
    assert.throws(() => requireScope({ scp: ['orders:read:all'] }, 'orders:read'), expectTokenError('insufficient_scope'));
    assert.throws(() => requireScope({ scp: ['a b'] }, 'a'), expectTokenError('insufficient_scope'));
  });

  it('throws TypeError for no scope at all (a programming error)', () => {
    assert.throws(() => requireScope(claims, []), TypeError);
    assert.throws(() => requireScope(claims, ''), TypeError);
  });
});
