/**
 * The machine's limits for the two operations that bound our endpoints, measured
 * with nothing else running (bench/run.ts starts this before any server):
 *
 * - argon2id verifies per second on all cores (@node-rs/argon2, the server's
 *   parameters, cores*2 in flight on the libuv pool) — what bounds a login;
 * - RSA-2048 RS256 signatures per second on all cores (node:crypto, one
 *   worker thread per core) — the single most expensive step of a refresh.
 *
 *   node --import tsx bench/limits.ts '{"seconds":5,"memoryCost":19456,"timeCost":2}'
 */
import { hash, verify } from '@node-rs/argon2';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Limits {
  cores: number;
  argon2: { params: string; concurrency: number; seconds: number; verifies: number; perSec: number };
  rsa: { threads: number; seconds: number; signatures: number; perSec: number };
}

const ARGON2ID = 2;

async function argon2Rate(seconds: number, memoryCost: number, timeCost: number, concurrency: number): Promise<Limits['argon2']> {
  const password = 'bench-Password-0123456789';
  const encoded = await hash(password, { algorithm: ARGON2ID, memoryCost, timeCost, parallelism: 1 });
  // Warm the pool, then count completions inside the window only.
  await Promise.all(Array.from({ length: concurrency }, () => verify(encoded, password)));
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let verifies = 0;
  const loop = async () => {
    while (performance.now() < end) {
      if (!(await verify(encoded, password))) throw new Error('argon2 verify failed');
      verifies++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  return { params: `m=${memoryCost},t=${timeCost},p=1`, concurrency, seconds: Math.round(elapsed * 100) / 100, verifies, perSec: Math.round(verifies / elapsed) };
}

// Plain JS so the thread needs no TypeScript loader.
const SIGNER = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
// A JWS signing input of the size our access tokens have (header.payload, ~400 bytes).
const input = Buffer.from('eyJhbGciOiJSUzI1NiIsImtpZCI6Ij' + 'x'.repeat(380));
for (let i = 0; i < 20; i++) crypto.sign('sha256', input, privateKey);
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const end = performance.now() + workerData.seconds * 1000;
  let n = 0;
  while (performance.now() < end) { crypto.sign('sha256', input, privateKey); n++; }
  parentPort.postMessage(n);
});
`;

async function rsaRate(seconds: number, threads: number): Promise<Limits['rsa']> {
  const workers = Array.from({ length: threads }, () => new Worker(SIGNER, { eval: true, workerData: { seconds } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const t0 = performance.now();
  const counts = await Promise.all(workers.map((w) => {
    const done = new Promise<number>((resolve) => w.once('message', (n: number) => resolve(n)));
    w.postMessage('go');
    return done;
  }));
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  const signatures = counts.reduce((a, b) => a + b, 0);
  return { threads, seconds: Math.round(elapsed * 100) / 100, signatures, perSec: Math.round(signatures / elapsed) };
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as { seconds?: number; memoryCost?: number; timeCost?: number };
  const seconds = opts.seconds ?? 5;
  const cores = availableParallelism();
  const argon2 = await argon2Rate(seconds, opts.memoryCost ?? 19456, opts.timeCost ?? 2, cores * 2);
  const rsa = await rsaRate(seconds, cores);
  const limits: Limits = { cores, argon2, rsa };
  process.stdout.write(`${JSON.stringify(limits)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`limits: ${err.message}\n`);
  process.exit(1);
});
