// SPEC §6 "Tokens": introspection (and the verify SDK) refuse forged and altered access
// tokens — alg none, HS256 keyed with the public key, unknown kid, jku/x5u/jwk headers,
// tampered payload or signature, expired, wrong iss, wrong aud. Tokens come from the
// real server; forgeries are built from them, or signed with an attacker's own key.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createVerifier, TokenError } from '../../src/verify/index.js';
import { addUser, login, startServer, type ServerHandle } from '../helpers/server.js';

const AUDIENCE = 'api://default';
const SHORT_TTL = 10;

let main: ServerHandle; // --issuer http://one.example
let otherIssuer: ServerHandle; // same store, --issuer http://other.example
let otherAudience: ServerHandle; // same store, same issuer, --audience api://other
let shortLived: ServerHandle; // own store, --access-ttl 10
let victimToken: string;
let expiring: { token: string; exp: number };
let jwks: { keys: JWK[] };
let attackerHost: Server;
let attackerHits = 0;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const parts = (token: string) => {
  const [h, p, s] = token.split('.') as [string, string, string];
  return { h, p, s, header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown> };
};

async function adminToken(server: ServerHandle): Promise<string> {
  return (await login(server.url, 'admin', server.adminPassword)).access_token;
}

async function introspect(server: ServerHandle, token: string, bearer: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/oauth2/v1/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${bearer}` },
    body: new URLSearchParams({ token }).toString(),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The verify SDK, fed the server's JWKS over HTTP, with the server's own 1 s leeway. */
function sdk(server: ServerHandle, issuer: string, audience = AUDIENCE) {
  return createVerifier({ issuer, audience, jwksUrl: `${server.url}/oauth2/v1/keys`, clockTolerance: 1 });
}

async function assertSdkRefuses(server: ServerHandle, issuer: string, token: string, what: string, audience = AUDIENCE): Promise<void> {
  await assert.rejects(sdk(server, issuer, audience).verify(token), (err: unknown) => {
    assert.ok(err instanceof TokenError, `${what}: ${String(err)}`);
    assert.equal(err.code, 'invalid_token', what);
    return true;
  });
}

before(async () => {
  main = await startServer({ args: ['--issuer', 'http://one.example'] });
  attackerHost = createServer((_req, res) => {
    attackerHits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(attackerJwks));
  });
  await new Promise<void>((done) => attackerHost.listen(0, '127.0.0.1', done));
  [otherIssuer, otherAudience, shortLived] = await Promise.all([
    startServer({ dataDir: main.dataDir, args: ['--issuer', 'http://other.example'] }),
    startServer({ dataDir: main.dataDir, args: ['--issuer', 'http://one.example', '--audience', 'api://other'] }),
    startServer({ args: ['--access-ttl', String(SHORT_TTL)] }),
  ]);
  const pw = await addUser(main, 'victim', undefined, 'openid,profile');
  victimToken = (await login(main.url, 'victim', pw)).access_token;
  jwks = (await (await fetch(`${main.url}/oauth2/v1/keys`)).json()) as { keys: JWK[] };
  const shortPw = await addUser(shortLived, 'brief');
  const token = (await login(shortLived.url, 'brief', shortPw)).access_token;
  expiring = { token, exp: parts(token).payload.exp as number };
});

after(async () => {
  await Promise.all([otherIssuer?.stop(), otherAudience?.stop(), shortLived?.stop()]);
  await main?.stop();
  await new Promise((done) => attackerHost?.close(done));
});

// An attacker's own RSA key, served from an attacker-controlled URL (jku/x5u).
const attacker = await generateKeyPair('RS256', { extractable: true });
const attackerJwk = { ...(await exportJWK(attacker.publicKey)), alg: 'RS256', use: 'sig' };
const attackerKid = await calculateJwkThumbprint(attackerJwk);
const attackerJwks = { keys: [{ ...attackerJwk, kid: attackerKid }] };

function attackerSigned(payload: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(attacker.privateKey);
}

/** Every forgery, built from the victim's genuine token. */
async function forgeries(): Promise<[string, string][]> {
  const { h, p, s, header, payload } = parts(victimToken);
  const serverJwk = jwks.keys.find((k) => k.kid === header.kid)!;
  const spki = createPublicKey({ key: serverJwk as JsonWebKey, format: 'jwk' });
  const hs256 = (secret: string | Buffer, extra: Record<string, unknown> = {}) => {
    const head = b64({ ...header, alg: 'HS256', ...extra });
    return `${head}.${p}.${createHmac('sha256', secret).update(`${head}.${p}`).digest('base64url')}`;
  };
  const escalated = { ...payload, scp: [...(payload.scp as string[]), 'rcauth:admin'] };
  const url = `http://127.0.0.1:${(attackerHost.address() as AddressInfo).port}/jwks.json`;
  const flipped = s.slice(0, 100) + (s[100] === 'A' ? 'B' : 'A') + s.slice(101);
  return [
    ['alg none, no signature', `${b64({ ...header, alg: 'none' })}.${p}.`],
    ['alg none, original signature', `${b64({ ...header, alg: 'none' })}.${p}.${s}`],
    ['alg NONE (case), no signature', `${b64({ ...header, alg: 'NONE' })}.${p}.`],
    ['alg none, no kid, no signature', `${b64({ alg: 'none' })}.${p}.`],
    ['HS256 keyed with the server public key (SPKI PEM)', hs256(spki.export({ type: 'spki', format: 'pem' }) as string)],
    ['HS256 keyed with the server public key (PKCS#1 PEM)', hs256(spki.export({ type: 'pkcs1', format: 'pem' }) as string)],
    ['HS256 keyed with the server public key (SPKI DER)', hs256(spki.export({ type: 'spki', format: 'der' }))],
    ['HS256 keyed with the JWK JSON', hs256(JSON.stringify(serverJwk))],
    ['HS256 keyed with the public key, escalated scope', (() => {
      const head = b64({ ...header, alg: 'HS256' });
      const body = b64(escalated);
      return `${head}.${body}.${createHmac('sha256', spki.export({ type: 'spki', format: 'pem' }) as string).update(`${head}.${body}`).digest('base64url')}`;
    })()],
    ['PS256 instead of RS256 (original signature)', `${b64({ ...header, alg: 'PS256' })}.${p}.${s}`],
    ['unknown kid (original signature)', `${b64({ ...header, kid: 'unknown-kid' })}.${p}.${s}`],
    ['no kid (original signature)', `${b64({ alg: header.alg })}.${p}.${s}`],
    ['jku header (original signature)', `${b64({ ...header, jku: url })}.${p}.${s}`],
    ['x5u header (original signature)', `${b64({ ...header, x5u: url })}.${p}.${s}`],
    ['jwk header (original signature)', `${b64({ ...header, jwk: attackerJwk })}.${p}.${s}`],
    ['crit header (original signature)', `${b64({ ...header, crit: ['exp'] })}.${p}.${s}`],
    ['signed by an attacker key under the server kid', await attackerSigned(escalated, { kid: header.kid })],
    ['signed by an attacker key with an unknown kid', await attackerSigned(escalated, { kid: attackerKid })],
    ['signed by an attacker key named in jku', await attackerSigned(escalated, { kid: attackerKid, jku: url })],
    ['signed by an attacker key named in x5u', await attackerSigned(escalated, { kid: attackerKid, x5u: url })],
    ['signed by an attacker key embedded as jwk', await attackerSigned(escalated, { kid: attackerKid, jwk: attackerJwk })],
    ['tampered payload: scope rcauth:admin added', `${h}.${b64(escalated)}.${s}`],
    ['tampered payload: sub changed', `${h}.${b64({ ...payload, sub: 'admin' })}.${s}`],
    ['tampered payload: exp extended', `${h}.${b64({ ...payload, exp: (payload.exp as number) + 86400 })}.${s}`],
    ['tampered signature (one character)', `${h}.${p}.${flipped}`],
    ['truncated signature', `${h}.${p}.${s.slice(0, -4)}`],
    ['signature of another token', `${h}.${p}.${parts(await adminToken(main)).s}`],
    ['five segments (JWE shape)', `${h}.${p}.${s}.${s}.${s}`],
  ];
}

describe('forged and altered tokens (SPEC §6)', () => {
  test('the genuine token is active and verifies (so the refusals below mean something)', async () => {
    const r = await introspect(main, victimToken, await adminToken(main));
    assert.equal(r.active, true);
    const claims = await sdk(main, 'http://one.example').verify(victimToken);
    assert.equal(claims.sub, 'victim');
  });

  test('introspection answers active:false, and the verify SDK refuses, for every forgery', async () => {
    const bearer = await adminToken(main);
    for (const [what, token] of await forgeries()) {
      assert.deepEqual(await introspect(main, token, bearer), { active: false }, what);
      await assertSdkRefuses(main, 'http://one.example', token, what);
    }
    assert.equal(attackerHits, 0, 'no key was ever fetched from a URL named in a token');
  });

  test('a forged token is refused as a bearer credential too (401 invalid_token, never 500)', async () => {
    for (const [what, token] of (await forgeries()).slice(0, 8)) {
      const res = await fetch(`${main.url}/oauth2/v1/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
        body: `token=${encodeURIComponent(victimToken)}`,
      });
      const body = (await res.json()) as { error?: string };
      assert.equal(res.status, 401, what);
      assert.equal(body.error, 'invalid_token', what);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
    }
  });
});

describe('issuer and audience (SPEC §6: iss and aud always checked)', () => {
  test('a token of issuer one.example is inactive at a node that is other.example, on the very same store and keys', async () => {
    const own = await adminToken(otherIssuer);
    assert.equal((await introspect(otherIssuer, own, own)).active, true, 'control: its own tokens are active');
    assert.deepEqual(await introspect(otherIssuer, victimToken, own), { active: false });
    await assertSdkRefuses(main, 'http://other.example', victimToken, 'wrong iss');
  });

  test('a token for audience api://default is inactive at a node whose audience is api://other', async () => {
    const own = await adminToken(otherAudience);
    assert.equal((await introspect(otherAudience, own, own)).active, true, 'control: its own tokens are active');
    assert.deepEqual(await introspect(otherAudience, victimToken, own), { active: false });
    await assertSdkRefuses(main, 'http://one.example', victimToken, 'wrong aud', 'api://other');
  });
});

describe('expiry', () => {
  test(`a token from a --access-ttl ${SHORT_TTL} server is inactive once exp (plus the 1 s leeway) has passed`, async () => {
    const bearer = await adminToken(shortLived);
    const issuer = parts(expiring.token).payload.iss as string;
    if (Date.now() / 1000 < expiring.exp - 1) {
      assert.equal((await introspect(shortLived, expiring.token, bearer)).active, true, 'control: live before exp');
    }
    // Waits only what is left of the 10 s lifetime (the tests above used most of it).
    const wait = (expiring.exp + 2) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const fresh = await adminToken(shortLived);
    assert.deepEqual(await introspect(shortLived, expiring.token, fresh), { active: false });
    await assertSdkRefuses(shortLived, issuer, expiring.token, 'expired');
  });
});
