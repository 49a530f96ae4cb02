// SPEC §3 errors and §6 "slow or oversized requests": hostile input at the auth
// endpoint gets its documented error (never a 500, never a stack trace), slow clients
// are cut off, and a fast-check property throws random bodies, content types, methods
// and headers at /api/v140/auth while the server stays up.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type ServerHandle } from '../helpers/server.js';

const AUTH = '/api/v140/auth';
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const STACK = /at .*\.js:\d+/;

let server: ServerHandle;
let slow: ServerHandle; // --header-timeout 2 --request-timeout 3

before(async () => {
  [server, slow] = await Promise.all([startServer(), startServer({ args: ['--header-timeout', '2', '--request-timeout', '3'] })]);
});
after(async () => {
  await Promise.all([server?.stop(), slow?.stop()]);
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown> | null;
  ms: number;
}

/**
 * One raw request on its own connection (node:http adds no content type of its own,
 * and a connection the server closed is never reused).
 */
function send(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array, target: ServerHandle = server): Promise<Reply> {
  const start = performance.now();
  return new Promise((done, fail) => {
    // An explicit Content-Length: node:http would send a GET or DELETE body unframed.
    const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: '127.0.0.1', port: target.port, method, path, headers: framed, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        assert.doesNotMatch(text, STACK, `no stack trace in ${method} ${path} → ${res.statusCode}`);
        done({ status: res.statusCode!, headers: res.headers, text, json, ms: performance.now() - start });
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', fail);
    req.end(body);
  });
}

/** The documented error body: exactly `error` and `error_description`, both strings. */
function assertError(r: Reply, status: number, code: string, what = ''): void {
  assert.equal(r.status, status, `${what} ${r.text}`);
  assert.ok(r.json, `${what}: a JSON body`);
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description'], what);
  assert.equal(r.json.error, code, what);
  assert.equal(typeof r.json.error_description, 'string');
}

const json = (body: string | Uint8Array, extra: Record<string, string> = {}) => send('POST', AUTH, { 'content-type': JSON_TYPE, ...extra }, body);
const form = (body: string | Uint8Array) => send('POST', AUTH, { 'content-type': FORM_TYPE }, body);

describe('oversized and deeply nested bodies', () => {
  test('a body over 16 KiB is 413 invalid_request, as JSON, as a form, and on the RFC endpoints', async () => {
    const big = JSON.stringify({ username: 'a', password: 'x'.repeat(17 * 1024) });
    assertError(await json(big), 413, 'invalid_request', 'json');
    assertError(await form(`username=a&password=${'x'.repeat(17 * 1024)}`), 413, 'invalid_request', 'form');
    for (const path of ['/oauth2/v1/token', '/oauth2/v1/revoke']) {
      assertError(await send('POST', path, { 'content-type': FORM_TYPE }, `token=${'x'.repeat(17 * 1024)}`), 413, 'invalid_request', path);
    }
    // Exactly at the limit is still read (and then judged on its fields).
    const pad = 16 * 1024 - JSON.stringify({ username: 'a', password: 'Long-Enough-1', p: '' }).length;
    const atLimit = JSON.stringify({ username: 'a', password: 'Long-Enough-1', p: 'x'.repeat(pad) });
    assert.equal(Buffer.byteLength(atLimit), 16 * 1024);
    assertError(await json(atLimit), 401, 'invalid_grant', 'exactly 16 KiB');
  });

  test('JSON nested 10 000 levels deep is refused quickly (it cannot fit in 16 KiB: 413); 8 000 levels that fit are 400', async () => {
    const deep = await json(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    assertError(deep, 413, 'invalid_request', '10k levels');
    const fits = await json(`${'['.repeat(8_000)}${']'.repeat(8_000)}`);
    assertError(fits, 400, 'invalid_request', '8k array levels');
    const objects = await json(`${'{"a":'.repeat(2_500)}1${'}'.repeat(2_500)}`);
    assertError(objects, 400, 'invalid_request', '2.5k object levels (no username)');
    // Deep junk in an unknown member of an otherwise ordinary login is ignored.
    const junk = await json(`{"username":"a","password":"Long-Enough-1","x":${'['.repeat(7_000)}${']'.repeat(7_000)}}`);
    assertError(junk, 401, 'invalid_grant', 'deep unknown member');
    for (const r of [deep, fits, objects, junk]) assert.ok(r.ms < 2000, `answered in ${Math.round(r.ms)} ms`);
  });

  test('a huge number of keys within the limit is handled quickly', async () => {
    const many: Record<string, number> = {};
    for (let i = 0; many && JSON.stringify(many).length < 15_500; i++) many[`k${i}`] = i;
    const withLogin = await json(JSON.stringify({ ...many, username: 'many-keys', password: 'Long-Enough-1' }));
    assertError(withLogin, 401, 'invalid_grant', 'many keys + login');
    const without = await json(JSON.stringify(many));
    assertError(without, 400, 'invalid_request', 'many keys, no username');
    const formMany = await form(`${Object.keys(many).map((k) => `${k}=1`).join('&')}&username=u&password=Long-Enough-1`);
    assertError(formMany, 401, 'invalid_grant', 'many form fields');
    for (const r of [withLogin, without, formMany]) assert.ok(r.ms < 2000, `answered in ${Math.round(r.ms)} ms`);
  });
});

describe('malformed fields', () => {
  test('duplicate keys are 400 invalid_request (JSON, escaped JSON, form)', async () => {
    assertError(await json('{"username":"a","username":"b","password":"Long-Enough-1"}'), 400, 'invalid_request', 'json');
    assertError(await json('{"username":"a","password":"Long-Enough-1","passw\\u006frd":"Long-Enough-2"}'), 400, 'invalid_request', 'escaped');
    assertError(await form('username=a&password=Long-Enough-1&password=Long-Enough-2'), 400, 'invalid_request', 'form');
    assertError(await json('{"grant_type":"refresh_token","grant_type":"password","username":"a","password":"Long-Enough-1"}'), 400, 'invalid_request', 'grant_type');
  });

  test('invalid UTF-8 is 400 invalid_request', async () => {
    const bad = (prefix: string, suffix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(suffix)]);
    assertError(await json(bad('{"username":"', '","password":"Long-Enough-1"}')), 400, 'invalid_request', 'json');
    assertError(await form(bad('username=', '&password=Long-Enough-1')), 400, 'invalid_request', 'form raw');
    assertError(await form('username=%C3%28&password=Long-Enough-1'), 400, 'invalid_request', 'form percent-encoded');
    // An unpaired surrogate escape is valid JSON text; it must not crash anything.
    const lone = await json('{"username":"\\ud800","password":"Long-Enough-1"}');
    assert.ok([400, 401].includes(lone.status), lone.text);
  });

  test('a NUL or other control character in the username is 400 invalid_request', async () => {
    assertError(await json('{"username":"ad\\u0000min","password":"Long-Enough-1"}'), 400, 'invalid_request', 'json NUL');
    assertError(await form('username=ad%00min&password=Long-Enough-1'), 400, 'invalid_request', 'form NUL');
    assertError(await json('{"username":"admin\\n","password":"Long-Enough-1"}'), 400, 'invalid_request', 'newline');
  });

  test('over-long and non-string fields are 400 invalid_request', async () => {
    assertError(await json(JSON.stringify({ username: 'u'.repeat(257), password: 'Long-Enough-1' })), 400, 'invalid_request', 'username 257');
    assertError(await json(JSON.stringify({ username: 'u', password: 'é'.repeat(513) })), 400, 'invalid_request', 'password 1026 bytes');
    for (const value of ['1', 'true', 'null', '["a"]', '{"a":1}']) {
      assertError(await json(`{"username":${value},"password":"Long-Enough-1"}`), 400, 'invalid_request', `username ${value}`);
    }
    for (const body of ['', '   ', 'null', '[]', '"x"', '{', '{"username":"a",}']) {
      assertError(await json(body), 400, 'invalid_request', `body ${JSON.stringify(body)}`);
    }
  });
});

describe('protocol', () => {
  test('a content type other than JSON or form is 415 invalid_request', async () => {
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream']) {
      assertError(await send('POST', AUTH, { 'content-type': type }, '{"username":"a","password":"Long-Enough-1"}'), 415, 'invalid_request', type);
    }
    assertError(await send('POST', AUTH, {}, '{"username":"a","password":"Long-Enough-1"}'), 415, 'invalid_request', 'no content type');
  });

  test('any method but POST is 405 invalid_request with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await send(method, AUTH, {});
      assertError(r, 405, 'invalid_request', method);
      assert.equal(r.headers.allow, 'POST', method);
    }
    const head = await send('HEAD', AUTH, {});
    assert.equal(head.status, 405);
    assert.equal(head.headers.allow, 'POST');
  });

  test('a malformed request line or unframed body gets a 400 from the HTTP layer, never a 500', async () => {
    for (const raw of ['GARBAGE\r\n\r\n', `POST ${AUTH} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]) {
      const answer = await new Promise<string>((done) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.write(raw));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('error', () => {});
        socket.on('close', () => done(text));
        setTimeout(() => socket.destroy(), 3000);
      });
      assert.match(answer, /^HTTP\/1\.1 400 /, JSON.stringify(answer));
      assert.doesNotMatch(answer, STACK);
    }
  });

  test('request headers over 16 KiB get 431 or a closed connection, never a 500, and the server stays up', async () => {
    for (const size of [17 * 1024, 64 * 1024]) {
      try {
        const r = await json('{}', { 'x-filler': 'a'.repeat(size) });
        assert.ok(r.status === 431 || r.status === 400, `status ${r.status}`);
      } catch (err) {
        assert.match(String((err as NodeJS.ErrnoException).code ?? err), /ECONNRESET|EPIPE|socket hang up/);
      }
    }
    assert.equal((await send('GET', '/healthz', {})).status, 200);
  });
});

// Concurrent: each trickle waits up to 6 s, and they use separate connections.
describe('slow clients (SPEC §6)', { concurrency: true }, () => {
  /** Opens a raw connection, sends `first`, then one more `drip` every 500 ms; resolves with when the server closed it. */
  async function trickle(first: string, drip: string): Promise<{ closedAfterMs: number | null; received: string }> {
    const socket = connect(slow.port, '127.0.0.1');
    await new Promise((done, fail) => socket.once('connect', done).once('error', fail));
    const start = performance.now();
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString()));
    socket.on('error', () => {});
    socket.write(first);
    const timer = setInterval(() => !socket.destroyed && socket.write(drip), 500);
    const closed = await new Promise<boolean>((done) => {
      socket.once('close', () => done(true));
      setTimeout(() => done(false), 6000);
    });
    clearInterval(timer);
    socket.destroy();
    assert.equal((await send('GET', '/healthz', {}, undefined, slow)).status, 200, 'the server is still up');
    return { closedAfterMs: closed ? performance.now() - start : null, received };
  }

  test('headers sent one line every 500 ms are cut off by --header-timeout 2 within 5 s', async () => {
    const r = await trickle(`POST ${AUTH} HTTP/1.1\r\nHost: 127.0.0.1\r\n`, 'X-Slow: 1\r\n');
    assert.ok(r.closedAfterMs !== null && r.closedAfterMs < 5000, `closed after ${r.closedAfterMs === null ? '> 6000' : Math.round(r.closedAfterMs)} ms`);
    assert.doesNotMatch(r.received, / 500 /);
  });

  test('a body sent one byte every 500 ms is cut off by --request-timeout 3 within 5 s', async () => {
    const r = await trickle(`POST ${AUTH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`, ' ');
    assert.ok(r.closedAfterMs !== null && r.closedAfterMs < 5000, `closed after ${r.closedAfterMs === null ? '> 6000' : Math.round(r.closedAfterMs)} ms`);
    assert.doesNotMatch(r.received, / 500 /);
  });
});

describe('property: random requests at /api/v140/auth', () => {
  const ALLOWED = new Set([400, 401, 405, 413, 415, 429]);
  const printable = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/);

  // Weighted towards bodies that reach the password check, so the grant path is exercised too.
  const login = fc.record({
    username: fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 300 }), weight: 4 }, fc.constantFrom('admin', 'ADMIN', ' admin', 'admin\u0000', ''), fc.integer(), fc.constant(null)),
    password: fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 600 })),
    grant_type: fc.constantFrom('password', 'password', 'password', 'refresh_token', 'client_credentials', ''),
    refresh_token: fc.base64String({ maxLength: 60 }),
    scope: fc.string({ maxLength: 30 }),
  }, { requiredKeys: ['username', 'password'] });
  const body = fc.oneof(
    { arbitrary: login.map((v) => JSON.stringify(v)), weight: 4 },
    { arbitrary: login.map((v) => new URLSearchParams(Object.entries(v).map(([k, x]) => [k, String(x)])).toString()), weight: 2 },
    { arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 },
    {
      arbitrary: fc.array(fc.tuple(fc.constantFrom('username', 'password', 'grant_type', 'refresh_token', 'scope', 'x'), fc.string({ maxLength: 40 })), { maxLength: 6 })
        .map((pairs) => new URLSearchParams(pairs).toString()),
      weight: 1,
    },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.integer({ min: 16 * 1024 - 16, max: 16 * 1024 + 64 }).map((n) => `{"username":"${'u'.repeat(n)}"}`), weight: 1 },
  );
  const contentType = fc.oneof(
    { arbitrary: fc.constantFrom(JSON_TYPE, `${JSON_TYPE}; charset=utf-8`, 'APPLICATION/JSON'), weight: 3 },
    { arbitrary: fc.constantFrom(FORM_TYPE, `${FORM_TYPE}; charset=UTF-8`), weight: 2 },
    { arbitrary: fc.constantFrom<string | undefined>('text/plain', 'multipart/form-data; boundary=----x', 'application/xml', undefined), weight: 1 },
  );
  const method = fc.oneof({ arbitrary: fc.constant('POST'), weight: 6 }, fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'));
  const headers = fc.dictionary(
    fc.oneof(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), fc.constantFrom('x-forwarded-for', 'authorization', 'accept', 'accept-encoding', 'user-agent', 'origin', 'cookie', 'x-request-id', 'accept-language', 'x-http-method-override')),
    printable,
    { maxKeys: 5 },
  );

  test('only documented statuses and error shapes come back, and the server stays up', async (t) => {
    const seen = new Map<number, number>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(method, body, contentType, headers, async (m, b, type, extra) => {
        const h: Record<string, string> = { ...extra };
        if (type !== undefined) h['content-type'] = type;
        const r = await send(m, AUTH, h, b);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        assert.ok(ALLOWED.has(r.status), `status ${r.status}: ${r.text}`);
        assert.ok(r.json, `JSON body: ${r.text}`);
        assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description'], r.text);
        assert.equal(typeof r.json.error, 'string');
        assert.equal(typeof r.json.error_description, 'string');
        if (r.status === 429) assert.match(String(r.headers['retry-after']), /^\d+$/);
        if (r.status === 405) assert.equal(r.headers.allow, 'POST');
      }),
      { numRuns: 300, interruptAfterTimeLimit: 60_000 },
    );
    const summary = `${Math.round(performance.now() - started)} ms; statuses ${[...seen].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`;
    t.diagnostic(summary);
    assert.equal((await send('GET', '/healthz', {})).status, 200);
    assert.doesNotMatch(server.logs(), /"msg":"unexpected error"/, 'nothing unexpected was logged');
  });
});
