/**
 * CPU profile of the server under one load: starts `rcauth serve` with
 * --cpu-prof, runs the scenario from a separate process, stops the server
 * (the profile is written at exit), and prints where the server's CPU went —
 * by area (SQLite, signing, HTTP, logging, …) and by function.
 *
 *   node --import tsx bench/profile.ts --scenario refresh --duration 10
 *   node --import tsx bench/profile.ts --scenario login
 *   node --import tsx bench/profile.ts --file some.cpuprofile   # just summarise
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createCore } from '../src/core/index.js';
import { coreOptions, openStore } from '../src/runtime.js';
import { runScript, startRcauth, startScript } from './lib.js';
import type { LoadResult, Scenario } from './load.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Areas, first match wins; the order puts the specific before the general. */
const AREAS: [string, RegExp][] = [
  ['idle (waiting for I/O or work)', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['native / runtime (incl. synchronous SQLite and fsync)', /^\(program\)$/],
  ['SQLite (better-sqlite3 JS side)', /better-sqlite3/],
  ['signing (jose / WebCrypto)', /\/jose\/|internal\/crypto\/(webcrypto|keys|rsa|sig|util)/],
  ['other node:crypto (hashing, random)', /internal\/crypto/],
  ['logging (pino)', /\/pino|sonic-boom|fast-redact|thread-stream/],
  ['metrics (prom-client)', /prom-client/],
  ['gateway proxy (undici, reply-from)', /undici|reply-from/],
  ['fastify and its plugins', /fastify|find-my-way|avvio|light-my-request|@fastify/],
  ['node http / net / streams', /node:(_http|http|net|internal\/(http|streams|stream_base|net|timers|url|process))/],
  ['our core', /\/src\/core\/|\/dist\/core\//],
  ['our store adapters', /\/src\/store\/|\/dist\/store\//],
  ['our http layer', /\/src\/http\/|\/dist\/http\/|\/src\/gateway\/|\/dist\/gateway\//],
  ['JSON', /^(JSON|parse|stringify)$/],
  ['other node internals', /^node:/],
];

function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  for (const [name, re] of AREAS) if (re.test(url) || re.test(functionName)) return name;
  return url ? 'other JS' : `other (${functionName || 'anonymous'})`;
}

export function summarise(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const area = areaOf(n);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|dist)\//, '$1/')}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const pct = (us: number, of: number) => `${((us / of) * 100).toFixed(1).padStart(5)} %`;
  const lines = [`profile: ${(total / 1e6).toFixed(1)} s sampled, ${pct(total - idle, total)} busy`, '', 'by area (share of busy time):'];
  let small = 0;
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1])) {
    if (area.startsWith('idle')) continue;
    if (us / (total - idle) < 0.005) small += us;
    else lines.push(`  ${pct(us, total - idle)}  ${area}`);
  }
  lines.push(`  ${pct(small, total - idle)}  (areas under 0.5 % each)`);
  lines.push('', `top ${top} functions by self time (share of busy time):`);
  for (const [fn, us] of [...fns].sort((a, b) => b[1] - a[1]).filter(([f]) => !f.startsWith('(idle)')).slice(0, top)) {
    lines.push(`  ${pct(us, total - idle)}  ${fn}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'refresh' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '1' },
      file: { type: 'string' },
      /** Run the load without profiling (a quick A/B of one scenario). */
      plain: { type: 'boolean', default: false },
      postgres: { type: 'boolean', default: false },
    },
  });
  if (flags.file) {
    console.log(summarise(JSON.parse(readFileSync(flags.file, 'utf8')) as CpuProfile));
    return;
  }
  const scenario = flags.scenario as Scenario | 'gateway';
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-profile-'));
  const profDir = join(dir, 'prof');
  try {
    let databaseUrl = '';
    let stopPg = async () => {};
    if (flags.postgres) {
      const { startPostgres } = await import('../test/helpers/postgres.js');
      const pg = await startPostgres();
      stopPg = pg.stop;
      databaseUrl = await pg.createDatabase('rcauth_profile');
    }
    const config = loadConfig({ dataDir: dir, ...(databaseUrl ? { databaseUrl } : {}) }, {});
    const store = await openStore(config);
    await store.migrate();
    const core = await createCore(store, coreOptions(config));
    const users = Array.from({ length: 50 }, (_, i) => ({ username: `prof-${i}`, password: `Profile-Pw-${i}-x9!q` }));
    for (const u of users) await core.accounts.create(u.username, u.password, undefined, { actor: 'bench' });
    await store.close();

    const upstream = await startScript('upstream.ts', {});
    const server = await startRcauth(
      ['--port', '0', '--data-dir', dir, '--rate-limit', '0', '--workers', flags.workers, '--upstream', `http://127.0.0.1:${upstream.port}`,
        ...(databaseUrl ? ['--database-url', databaseUrl] : [])],
      join(dir, 'server.log'),
      flags.plain ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir],
    );
    const base = { origin: server.url, users, duration: Number(flags.duration), connections: Number(flags.connections), format: 'json', path: '/api/v140/auth' };
    const spec = scenario === 'gateway'
      ? { ...base, scenario: 'get', path: '/bench/items', loginPath: '/api/v140/auth', bearer: true }
      : { ...base, scenario };
    const result = await runScript<LoadResult>('load.ts', spec);
    console.log(`${scenario}: ${result.okPerSec}/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}`);
    await server.stop();
    await upstream.stop();
    await stopPg();
    if (flags.plain) return;
    for (const f of readdirSync(profDir).filter((n) => n.endsWith('.cpuprofile'))) {
      const profile = JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile;
      // The cluster primary only supervises; its profile is nearly all idle.
      console.log(`\n== ${f}\n${summarise(profile)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`profile: ${err.stack ?? err.message}`);
  process.exit(1);
});
