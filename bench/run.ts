/**
 * `npm run bench` — measures the server against the machine's limits and against
 * node-oidc-provider, and writes bench/results.md and bench/results.json.
 *
 *   npm run bench                          # SQLite in a temp dir, 10 s per scenario
 *   npm run bench -- --duration 20 --workers 2
 *   npm run bench -- --database-url postgres://user:pw@127.0.0.1/rcauth_bench
 *   npm run bench -- --postgres            # a throwaway local PostgreSQL (Debian's binaries)
 *   npm run bench -- --soak 300            # plus a 5-minute refresh soak (RSS growth)
 *   npm run bench -- --load-generator autocannon   # instead of wrk
 *
 * Every load runs from a separate process (bench/load.ts: wrk when it is on
 * PATH, else autocannon) for a bounded time, against 127.0.0.1 only.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createCore } from '../src/core/index.js';
import { coreOptions, openStore } from '../src/runtime.js';
import type { Limits } from './limits.js';
import {
  cpuSeconds, loadAverage, median, resolveLoadGenerator, ROOT, rssMiB, runScript, sampleRss, startRcauth, startScript, waitForIdle, type LoadGenerator, type Rcauth,
} from './lib.js';
import type { LoadResult, LoadSpec, Scenario } from './load.js';
import { renderMarkdown, type BenchResults, type Measured } from './report.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    'database-url': { type: 'string' },
    postgres: { type: 'boolean', default: false },
    workers: { type: 'string' },
    soak: { type: 'string', default: '0' },
    users: { type: 'string', default: '200' },
    'login-connections': { type: 'string', default: '16' },
    connections: { type: 'string', default: '32' },
    'limit-seconds': { type: 'string', default: '5' },
    'startup-runs': { type: 'string', default: '5' },
    out: { type: 'string', default: join(ROOT, 'bench') },
    'no-peer': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'wait-idle': { type: 'string', default: '0' },
    'load-generator': { type: 'string' },
  },
});

const duration = Number(flags.duration);
const soakSeconds = Number(flags.soak);
const userCount = Number(flags.users);
const connections = Number(flags.connections);
const loginConnections = Number(flags['login-connections']);
let databaseUrl = flags['database-url'] ?? '';
if (![duration, soakSeconds, userCount, connections, loginConnections].every((n) => Number.isInteger(n) && n >= 0) || duration < 1) {
  console.error('bench: --duration, --soak, --users and --connections take whole numbers (duration ≥ 1)');
  process.exit(2);
}
// Short warm-ups let the JIT and the store's caches settle before a measured run.
const warmup = Math.min(3, Math.max(1, Math.round(duration / 5)));
const AUTH = '/api/v140/auth';
const GATEWAY_PATH = '/bench/items?page=1';
let generator: LoadGenerator = 'autocannon';

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** The commit the figures belong to (and whether the tree had changes on top). */
function revision(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  return head ? `${head}${dirty ? ' + local changes' : ''}` : 'unknown';
}

function build(): void {
  log('building dist/ (the server runs from it)');
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the build failed; fix it or run with --no-build against the current dist/');
}

/** Creates the bench accounts directly through the core (the CLI would start a process per account). */
async function createUsers(dataDir: string, runId: string): Promise<{ username: string; password: string }[]> {
  const config = loadConfig({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) }, {});
  const store = await openStore(config);
  try {
    await store.migrate();
    const core = await createCore(store, coreOptions(config));
    const users = Array.from({ length: userCount }, (_, i) => ({ username: `bench-${runId}-${i}`, password: `Bench-${runId}-Pw-${i}-x9!q` }));
    let next = 0;
    // argon2 hashing runs on the libuv pool: a few at a time uses every core.
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < users.length) {
        const u = users[next++]!;
        await core.accounts.create(u.username, u.password, undefined, { actor: 'bench' });
      }
    }));
    return users;
  } finally {
    await store.close();
  }
}

/**
 * Event-loop delay of our server since the previous scrape (prom-client resets
 * its histogram on every scrape): how long a ready request waits for the loop.
 */
async function scrape(metricsUrl: string): Promise<(name: string) => number> {
  const text = await (await fetch(metricsUrl)).text();
  return (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? NaN);
}

async function eventLoopLag(metricsUrl: string | undefined): Promise<{ meanMs: number; p99Ms: number } | undefined> {
  if (!metricsUrl) return undefined;
  const value = await scrape(metricsUrl);
  return { meanMs: Math.round(value('rcauth_nodejs_eventloop_lag_mean_seconds') * 1e4) / 10, p99Ms: Math.round(value('rcauth_nodejs_eventloop_lag_p99_seconds') * 1e4) / 10 };
}

/** The bench upstream's counters (bench/upstream.ts). */
async function upstreamStats(origin: string): Promise<{ requests: number; cpuUs: number }> {
  return (await (await fetch(`${origin}/__stats`)).json()) as { requests: number; cpuUs: number };
}

interface Watch {
  /** Our server's /metrics, for its event-loop lag. */
  metricsUrl?: string;
  server?: Rcauth;
  /** The bench upstream behind the run, for its CPU per request. */
  upstream?: string;
}

/** One measured load run, with the server's RSS and CPU over it (and its event-loop lag when `metricsUrl` is ours). */
async function measure(spec: LoadSpec, serverPid: number, watch: Watch = {}): Promise<Measured> {
  if (warmup > 0) await runScript<LoadResult>('load.ts', { ...spec, duration: warmup });
  await eventLoopLag(watch.metricsUrl);
  const up0 = watch.upstream ? await upstreamStats(watch.upstream) : undefined;
  const cpu0 = cpuSeconds(serverPid);
  const rss = sampleRss(serverPid);
  const result = await runScript<LoadResult>('load.ts', spec);
  const { peak } = rss.stop();
  const cpu = cpuSeconds(serverPid) - cpu0;
  watch.server?.assertAlive();
  const up1 = watch.upstream ? await upstreamStats(watch.upstream) : undefined;
  const lag = await eventLoopLag(watch.metricsUrl);
  const served = up0 && up1 ? up1.requests - up0.requests : 0;
  const m: Measured = {
    ...result, rssMiB: rssMiB(serverPid), peakRssMiB: peak, serverCores: Math.round((cpu / result.seconds) * 100) / 100, loadAvg: loadAverage(),
    ...(lag ? { eventLoopLag: lag } : {}),
    ...(up0 && up1 && served > 0 ? { upstreamUsPerRequest: Math.round(((up1.cpuUs - up0.cpuUs) / served) * 10) / 10 } : {}),
  };
  log(`${spec.scenario.padEnd(8)} ${String(m.okPerSec).padStart(6)}/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}  RSS ${m.rssMiB} MiB  ` +
    `server CPU ${m.serverCores} cores  ${m.generator} CPU ${m.generatorCores} cores${m.upstreamUsPerRequest === undefined ? '' : `  upstream ${m.upstreamUsPerRequest} µs/request`}  load ${m.loadAvg}`);
  return m;
}

function spec(scenario: Scenario, origin: string, users: LoadSpec['users'], over: Partial<LoadSpec> = {}): LoadSpec {
  return {
    scenario, origin, users, path: AUTH, duration, format: 'json', generator,
    connections: scenario === 'login' ? loginConnections : connections,
    ...over,
  };
}

async function measureStartup(dataDir: string, workers: string[], runs: number): Promise<BenchResults['startup']> {
  const samples: { wallMs: number; serverMs: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const s = await startRcauth(['--port', '0', '--data-dir', dataDir, ...workers, ...(databaseUrl ? ['--database-url', databaseUrl] : [])], join(dataDir, `startup-${i}.log`));
    samples.push({ wallMs: s.wallMs, serverMs: s.serverMs });
    await s.stop();
  }
  return { runs: samples, medianWallMs: median(samples.map((s) => s.wallMs)), medianServerMs: median(samples.map((s) => s.serverMs)) };
}

async function main(): Promise<void> {
  generator = resolveLoadGenerator(flags['load-generator'], log);
  log(`load generator: ${generator}`);
  if (!flags['no-build']) build();
  const rev = revision();
  if (Number(flags['wait-idle']) > 0) await waitForIdle(Number(flags['wait-idle']), log);
  const loadAtStart = loadAverage();
  const runId = Date.now().toString(36);
  const dataDir = mkdtempSync(join(tmpdir(), 'rcauth-bench-'));
  const workersArgs = flags.workers ? ['--workers', flags.workers] : [];
  const started = new Date();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (flags.postgres && !databaseUrl) {
      const { startPostgres } = await import('../test/helpers/postgres.js');
      const pg = await startPostgres();
      cleanups.push(pg.stop);
      databaseUrl = await pg.createDatabase('rcauth_bench');
      log(`throwaway PostgreSQL at ${new URL(databaseUrl).host}`);
    }
    log(`limits: argon2id verify and RSA-2048 signing rates on ${availableParallelism()} cores (${flags['limit-seconds']} s each)`);
    const limits = await runScript<Limits>('limits.ts', { seconds: Number(flags['limit-seconds']), memoryCost: 19456, timeCost: 2 });
    log(`argon2id ${limits.argon2.perSec}/s, RS256 ${limits.rsa.perSec}/s`);

    log(`creating ${userCount} accounts in ${databaseUrl ? 'PostgreSQL' : dataDir}`);
    const users = await createUsers(dataDir, runId);

    log('start-up time on the existing store');
    const startup = await measureStartup(dataDir, workersArgs, Number(flags['startup-runs']));
    log(`ready in ${startup.medianWallMs} ms from spawn (server's own figure ${startup.medianServerMs} ms)`);

    const serve = (upstreamOrigin: string, logName: string) => startRcauth([
      '--port', '0', '--data-dir', dataDir, '--rate-limit', '0', '--upstream', upstreamOrigin,
      ...workersArgs, ...(databaseUrl ? ['--database-url', databaseUrl] : []),
    ], join(dataDir, logName));
    const upstream = await startScript('upstream.ts', {});
    cleanups.push(upstream.stop);
    const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
    const server: Rcauth = await serve(upstreamOrigin, 'server.log');
    cleanups.push(server.stop);
    const rssAtStart = rssMiB(server.pid);
    log(`server ${server.url} (pid ${server.pid}), RSS ${rssAtStart} MiB`);

    const watch: Watch = { metricsUrl: `${server.url}/metrics`, server };
    const gatewaySpec = { path: GATEWAY_PATH, loginPath: AUTH, bearer: true };
    const ours: BenchResults['ours'] = {
      login: await measure(spec('login', server.url, users), server.pid, watch),
      refresh: await measure(spec('refresh', server.url, users), server.pid, watch),
      gateway: await measure(spec('get', server.url, users, gatewaySpec), server.pid, { ...watch, upstream: upstreamOrigin }),
      direct: await measure(spec('get', upstreamOrigin, users, { path: GATEWAY_PATH }), upstream.pid, { upstream: upstreamOrigin }),
    };
    const rssAfter = rssMiB(server.pid);

    let soak: BenchResults['soak'] = null;
    if (soakSeconds > 0) {
      log(`soak: refresh for ${soakSeconds} s`);
      const beforeMiB = rssMiB(server.pid);
      // Growth is measured from a point inside the soak, once its own working
      // set (connections, caches, JIT) is in place, to its end.
      const settleMs = Math.min(30, soakSeconds / 10) * 1000;
      const samples: number[] = [];
      let startMiB = beforeMiB;
      const t0 = Date.now();
      const settled = setTimeout(() => (startMiB = rssMiB(server.pid)), settleMs);
      // The server's own view too, to tell a growing JS heap from native memory (SQLite, buffers).
      const heap: { heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }[] = [];
      const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
      const every = setInterval(() => {
        samples.push(rssMiB(server.pid));
        scrape(`${server.url}/metrics`).then((v) => heap.push({
          heapUsedMiB: mib(v('rcauth_nodejs_heap_size_used_bytes')), heapTotalMiB: mib(v('rcauth_nodejs_heap_size_total_bytes')), externalMiB: mib(v('rcauth_nodejs_external_memory_bytes')),
        }), () => {});
      }, 5000);
      const result = await runScript<LoadResult>('load.ts', spec('refresh', server.url, users, { duration: soakSeconds }));
      clearTimeout(settled);
      clearInterval(every);
      server.assertAlive();
      const endMiB = rssMiB(server.pid);
      soak = {
        seconds: soakSeconds, beforeMiB, settleSeconds: settleMs / 1000, startMiB, endMiB, peakMiB: Math.max(...samples, endMiB),
        growthPct: Math.round(((endMiB - startMiB) / startMiB) * 1000) / 10, samples, heap, refresh: result, wallSeconds: Math.round((Date.now() - t0) / 1000),
      };
      log(`soak: RSS ${startMiB} MiB at ${settleMs / 1000} s → ${endMiB} MiB at the end (${soak.growthPct} %), ${result.okPerSec}/s`);
    }
    await server.stop();
    await upstream.stop();

    // The same comparison in front of an upstream that does an API's worth of
    // CPU work per request. The server takes one --upstream, so this is a
    // second server process on the same store, started once the first is gone.
    log('gateway in front of the representative upstream');
    const workUpstream = await startScript('upstream.ts', { work: true });
    cleanups.push(workUpstream.stop);
    const workOrigin = `http://127.0.0.1:${workUpstream.port}`;
    const workServer = await serve(workOrigin, 'server-work.log');
    cleanups.push(workServer.stop);
    ours.gatewayWork = await measure(spec('get', workServer.url, users, gatewaySpec), workServer.pid, { metricsUrl: `${workServer.url}/metrics`, server: workServer, upstream: workOrigin });
    ours.directWork = await measure(spec('get', workOrigin, users, { path: GATEWAY_PATH }), workUpstream.pid, { upstream: workOrigin });
    await workServer.stop();
    await workUpstream.stop();

    let peer: BenchResults['peer'] = null;
    if (!flags['no-peer']) {
      log('peer: node-oidc-provider');
      const p = await startScript('peer.ts', { users, memoryCost: 19456, timeCost: 2 });
      cleanups.push(p.stop);
      const origin = `http://127.0.0.1:${p.port}`;
      const peerSpec = { path: '/token', format: 'form' as const, extra: { client_id: 'bench' } };
      peer = {
        login: await measure(spec('login', origin, users, peerSpec), p.pid),
        refresh: await measure(spec('refresh', origin, users, peerSpec), p.pid),
      };
      await p.stop();
    }

    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
    const results: BenchResults = {
      date: started.toISOString(),
      revision: rev,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, loadAtStart },
      options: {
        duration, connections, loginConnections, users: userCount, workers: flags.workers ? Number(flags.workers) : 'default', store: databaseUrl ? 'postgresql' : 'sqlite',
        loadGenerator: generator,
      },
      limits,
      startup,
      ours,
      peer,
      rss: { atStartMiB: rssAtStart, afterBenchMiB: rssAfter, peakMiB: Math.max(...[ours.login, ours.refresh, ours.gateway, ours.gatewayWork].map((m) => m?.peakRssMiB ?? 0)) },
      soak,
      ratios: {
        loginVsArgon2: ratio(ours.login.okPerSec, limits.argon2.perSec),
        refreshVsSigning: ratio(ours.refresh.okPerSec, limits.rsa.perSec),
        gatewayVsDirect: ratio(ours.gateway.okPerSec, ours.direct.okPerSec),
        gatewayWorkVsDirectWork: ours.gatewayWork && ours.directWork ? ratio(ours.gatewayWork.okPerSec, ours.directWork.okPerSec) : null,
        loginVsPeer: peer ? ratio(ours.login.okPerSec, peer.login.okPerSec) : null,
        refreshVsPeer: peer ? ratio(ours.refresh.okPerSec, peer.refresh.okPerSec) : null,
      },
    };
    writeFileSync(join(flags.out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = renderMarkdown(results);
    writeFileSync(join(flags.out, 'results.md'), md);
    process.stdout.write(md);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
