// SPEC §6 user enumeration: a login for an unknown, disabled or throttled username
// costs what a wrong password for a known one costs (one argon2 verify on every
// failure path) and answers in the same shape. Measured through the real server as
// a ratio of medians, with a generous bound; the ratios are printed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addUser, postAuth, startServer, type ServerHandle } from '../helpers/server.js';

const SAMPLES = 15;
const WARMUP = 3;
const BOUND: [number, number] = [0.5, 2.0];

type Kind = 'wrong-password' | 'unknown-user' | 'disabled-user' | 'throttled-user';
const KINDS: readonly Kind[] = ['wrong-password', 'unknown-user', 'disabled-user', 'throttled-user'];

let server: ServerHandle;

before(async () => {
  // --trust-proxy: each sample comes from its own X-Forwarded-For address, so that the
  // measured pairs never reach their own throttling cap (except the throttled one).
  server = await startServer({ args: ['--trust-proxy'] });
  await addUser(server, 'known');
  await addUser(server, 'sleeper');
  const off = await server.cli(['user', 'disable', 'sleeper']);
  assert.equal(off.code, 0, off.stderr);
  await addUser(server, 'besieged');
  for (let i = 0; i < 10; i++) {
    const r = await postAuth(server.url, { username: 'besieged', password: 'not-the-password' }, { headers: { 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(r.status, 401);
  }
});
after(async () => {
  await server?.stop();
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

let counter = 0;
function request(kind: Kind) {
  const ip = `10.8.${(counter >> 8) & 255}.${counter++ & 255}`;
  switch (kind) {
    case 'wrong-password': return { username: 'known', ip };
    case 'unknown-user': return { username: `nobody-${counter}`, ip };
    case 'disabled-user': return { username: 'sleeper', ip };
    case 'throttled-user': return { username: 'besieged', ip: '10.9.9.9' };
  }
}

test('unknown, disabled and throttled usernames cost what a wrong password costs, and answer alike', async (t) => {
  const times: Record<Kind, number[]> = { 'wrong-password': [], 'unknown-user': [], 'disabled-user': [], 'throttled-user': [] };
  const bodies: Record<Kind, Set<string>> = { 'wrong-password': new Set(), 'unknown-user': new Set(), 'disabled-user': new Set(), 'throttled-user': new Set() };
  for (let round = 0; round < WARMUP + SAMPLES; round++) {
    // Interleaved, and rotated every round, so that drift in machine load hits every kind alike.
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(k + round) % KINDS.length]!;
      const { username, ip } = request(kind);
      const start = performance.now();
      const r = await postAuth(server.url, { username, password: 'Wrong-Password-123' }, { headers: { 'x-forwarded-for': ip } });
      const ms = performance.now() - start;
      if (kind === 'throttled-user') {
        assert.equal(r.status, 429, r.text);
        assert.equal(r.json.error, 'slow_down');
      } else {
        assert.equal(r.status, 401, `${kind}: ${r.text}`);
        assert.equal(r.json.error, 'invalid_grant');
      }
      assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description'], kind);
      bodies[kind].add(r.text);
      if (round >= WARMUP) times[kind].push(ms);
    }
  }

  // The non-throttled failures are byte-for-byte the same answer.
  const answers = new Set([...bodies['wrong-password'], ...bodies['unknown-user'], ...bodies['disabled-user']]);
  assert.equal(answers.size, 1, `one body for every non-throttled failure, got ${[...answers].join(' | ')}`);

  const base = median(times['wrong-password']);
  const report: string[] = [`median wrong-password ${base.toFixed(1)} ms (n=${SAMPLES} each, interleaved)`];
  const ratios: Partial<Record<Kind, number>> = {};
  for (const kind of KINDS.slice(1)) {
    const m = median(times[kind]);
    ratios[kind] = m / base;
    report.push(`${kind}: median ${m.toFixed(1)} ms, ratio ${(m / base).toFixed(2)}`);
  }
  for (const line of report) {
    t.diagnostic(line);
    console.log(`enumeration: ${line}`);
  }
  for (const [kind, ratio] of Object.entries(ratios)) {
    assert.ok(ratio >= BOUND[0] && ratio <= BOUND[1], `${kind}: median ratio ${ratio.toFixed(2)} outside ${BOUND[0]}..${BOUND[1]}`);
  }
});
