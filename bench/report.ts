/** The shape of bench/results.json and its rendering as bench/results.md. */
import type { LoadGenerator } from './lib.js';
import type { Limits } from './limits.js';
import type { LoadResult } from './load.js';

export interface Measured extends LoadResult {
  /** RSS of the server (all its processes) right after the run, and the peak during it, MiB. */
  rssMiB: number;
  peakRssMiB: number;
  /** CPU the server used during the run, in cores (1.0 = one core busy all the time). */
  serverCores: number;
  /** 1-minute load average after the run: high values mean other work shared the cores. */
  loadAvg: number;
  /**
   * Our server only: event-loop delay during the run as prom-client reports it
   * (in cluster mode the workers' average). Its monitor samples every 10 ms, so
   * an idle loop reads 10 ms: the report subtracts that.
   */
  eventLoopLag?: { meanMs: number; p99Ms: number };
  /** Gateway and direct runs: the upstream's own CPU per request it served during the run, µs (from its /__stats). */
  upstreamUsPerRequest?: number;
}

export interface BenchResults {
  date: string;
  /** git commit the server was built from. */
  revision?: string;
  command: string;
  machine: { cores: number; cpu: string; node: string; platform: string; loadAtStart: number };
  options: {
    duration: number; connections: number; loginConnections: number; users: number; workers: number | 'default'; store: 'sqlite' | 'postgresql';
    /** Absent in results from before wrk: those used autocannon. */
    loadGenerator?: LoadGenerator;
  };
  limits: Limits;
  startup: { runs: { wallMs: number; serverMs: number }[]; medianWallMs: number; medianServerMs: number };
  /**
   * `gateway`/`direct`: the no-op upstream (the gateway's own cost).
   * `gatewayWork`/`directWork`: the representative upstream, behind a second
   * server process on the same store (absent in older results).
   */
  ours: { login: Measured; refresh: Measured; gateway: Measured; direct: Measured; gatewayWork?: Measured; directWork?: Measured };
  peer: { login: Measured; refresh: Measured } | null;
  rss: { atStartMiB: number; afterBenchMiB: number; peakMiB: number };
  soak: {
    seconds: number; wallSeconds: number; beforeMiB: number; settleSeconds: number; startMiB: number; endMiB: number; peakMiB: number;
    /** From `startMiB` (taken `settleSeconds` into the soak) to the end. */
    growthPct: number; samples: number[]; refresh: LoadResult;
    /** The server's JS heap and external memory at each sample (prom-client; summed over workers). */
    heap: { heapUsedMiB: number; heapTotalMiB: number; externalMiB: number }[];
  } | null;
  ratios: {
    loginVsArgon2: number | null;
    refreshVsSigning: number | null;
    gatewayVsDirect: number | null;
    gatewayWorkVsDirectWork?: number | null;
    loginVsPeer: number | null;
    refreshVsPeer: number | null;
  };
}

const GOALS = {
  loginVsArgon2: 0.9,
  refreshVsSigning: 0.6,
  gatewayVsDirect: 0.7,
  gatewayWorkVsDirectWork: 0.7,
  refreshVsPeer: 1.5,
  rssAfterMiB: 200,
  soakGrowthPct: 10,
  startupMs: 1000,
};

/** prom-client's event-loop monitor resolution (an idle loop reads this much). */
const LAG_RESOLUTION_MS = 10;

const verdict = (ok: boolean | null): string => (ok === null ? '—' : ok ? 'met' : '**not met**');

function row(name: string, m: Measured): string {
  const extra = (ms: number) => Math.max(0, Math.round((ms - LAG_RESOLUTION_MS) * 10) / 10);
  const lag = m.eventLoopLag ? `${extra(m.eventLoopLag.meanMs)} / ${extra(m.eventLoopLag.p99Ms)}` : '—';
  const generator = m.generatorCores === undefined ? '—' : m.generatorCores;
  return `| ${name} | ${m.okPerSec} | ${m.p50} | ${m.p99} | ${m.non2xx} | ${m.errors} | ${m.rssMiB} (peak ${m.peakRssMiB}) | ${m.serverCores} | ${lag} | ${generator} | ${m.connections} | ${m.loadAvg} |`;
}

export function renderMarkdown(r: BenchResults): string {
  const q = r.ratios;
  const generator = r.options.loadGenerator ?? 'autocannon';
  const work = r.ours.gatewayWork && r.ours.directWork ? { gateway: r.ours.gatewayWork, direct: r.ours.directWork } : null;
  const us = (m: Measured | undefined) => (m?.upstreamUsPerRequest === undefined ? '?' : String(Math.round(m.upstreamUsPerRequest)));
  const workRatio = q.gatewayWorkVsDirectWork ?? null;
  const lines = [
    '# Benchmark results',
    '',
    `${r.date} · \`${r.command}\`${r.revision ? ` · revision ${r.revision}` : ''}`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.machine.platform}. ` +
      `Store: ${r.options.store}. Server workers: ${r.options.workers}. ${r.options.duration} s per scenario after a short warm-up; ` +
      `load from a separate process (${generator}) on the same machine, so the load generator shares the cores with the server ` +
      '(its own CPU is the "load generator CPU" column).',
    '',
    '## Throughput',
    '',
    '| scenario | 2xx/s | p50 ms | p99 ms | non-2xx | errors | server RSS MiB | server CPU (cores) | event-loop delay mean / p99 ms | load generator CPU (cores) | connections | load avg |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('login (password grant)', r.ours.login),
    row('refresh (rotation)', r.ours.refresh),
    row('gateway GET (bearer → no-op upstream)', r.ours.gateway),
    row('no-op upstream directly', r.ours.direct),
    ...(work ? [
      row(`gateway GET (bearer → representative upstream, ~${us(work.direct)} µs CPU per request)`, work.gateway),
      row('representative upstream directly', work.direct),
    ] : []),
    ...(r.peer ? [row('peer: node-oidc-provider login', r.peer.login), row('peer: node-oidc-provider refresh', r.peer.refresh)] : []),
    '',
    '(For the "directly" rows the RSS and CPU columns are the upstream process\'s. "event-loop delay" is how long a ready callback waited for the ' +
      'server\'s main thread (prom-client, its 10 ms sampling interval subtracted). "load generator CPU" is the load generator\'s own user + system ' +
      'time over the run (from /proc), in cores. "load avg" is the machine\'s 1-minute load average after the run; ' +
      `the server, the upstream and the load generator account for up to about 2 on their own; more means other work shared the cores. Load at start: ${r.machine.loadAtStart}.)`,
    '',
    '## Limits of this machine',
    '',
    `- argon2id verify (${r.limits.argon2.params}, ${r.limits.argon2.concurrency} in flight): **${r.limits.argon2.perSec}/s**`,
    `- RSA-2048 RS256 signing with node:crypto on ${r.limits.rsa.threads} threads: **${r.limits.rsa.perSec}/s**`,
    '',
    '## Ratios and goals',
    '',
    '| ratio | value | goal | |',
    '|---|---:|---:|---|',
    `| login / argon2id verify rate | ${q.loginVsArgon2} | ≥ ${GOALS.loginVsArgon2} | ${verdict(q.loginVsArgon2 === null ? null : q.loginVsArgon2 >= GOALS.loginVsArgon2)} |`,
    `| refresh / RS256 signing rate | ${q.refreshVsSigning} | ≥ ${GOALS.refreshVsSigning} | ${verdict(q.refreshVsSigning === null ? null : q.refreshVsSigning >= GOALS.refreshVsSigning)} |`,
    `| gateway / no-op upstream direct (the gateway's own cost) | ${q.gatewayVsDirect} | ≥ ${GOALS.gatewayVsDirect} | ${verdict(q.gatewayVsDirect === null ? null : q.gatewayVsDirect >= GOALS.gatewayVsDirect)} |`,
    ...(work
      ? [`| gateway / representative upstream direct (~${us(work.direct)} µs CPU per request) | ${workRatio ?? '—'} | ≥ ${GOALS.gatewayWorkVsDirectWork} | ${verdict(workRatio === null ? null : workRatio >= GOALS.gatewayWorkVsDirectWork)} |`]
      : []),
    `| login: ours / node-oidc-provider | ${q.loginVsPeer ?? '—'} | — | |`,
    `| refresh: ours / node-oidc-provider | ${q.refreshVsPeer ?? '—'} | ≥ ${GOALS.refreshVsPeer} | ${verdict(q.refreshVsPeer === null ? null : q.refreshVsPeer >= GOALS.refreshVsPeer)} |`,
    `| server RSS after the bench | ${r.rss.afterBenchMiB} MiB | ≤ ${GOALS.rssAfterMiB} MiB | ${verdict(r.rss.afterBenchMiB <= GOALS.rssAfterMiB)} |`,
    `| start-up to ready, existing store (median of ${r.startup.runs.length}, from spawn) | ${r.startup.medianWallMs} ms | < ${GOALS.startupMs} ms | ${verdict(r.startup.medianWallMs < GOALS.startupMs)} |`,
    ...(r.soak
      ? [`| RSS growth over a ${r.soak.seconds} s refresh soak (from ${r.soak.settleSeconds} s in to the end) | ${r.soak.growthPct} % (${r.soak.startMiB} → ${r.soak.endMiB} MiB) | ≤ ${GOALS.soakGrowthPct} % | ${verdict(r.soak.growthPct <= GOALS.soakGrowthPct)} |`]
      : ['| RSS growth over a refresh soak | not run (`--soak 300`) | ≤ 10 % | — |']),
    '',
    ...gatewayNote(r, us),
    `Start-up: ${r.startup.runs.map((s) => `${s.wallMs} ms (server ${s.serverMs} ms)`).join(', ')}; RSS at start ${r.rss.atStartMiB} MiB, peak ${r.rss.peakMiB} MiB.`,
    ...(r.soak ? ['', `Soak: ${r.soak.refresh.okPerSec} refreshes/s, p99 ${r.soak.refresh.p99} ms, non-2xx ${r.soak.refresh.non2xx}, ${r.soak.refresh.ok} rotations; ` +
      `RSS ${r.soak.beforeMiB} MiB before it, peak ${r.soak.peakMiB} MiB; samples every 5 s: ${r.soak.samples.join(', ')} MiB. ` +
      `JS heap used / total / external at the first and last sample: ${[r.soak.heap[0], r.soak.heap.at(-1)].map((h) => (h ? `${h.heapUsedMiB} / ${h.heapTotalMiB} / ${h.externalMiB}` : '—')).join(' → ')} MiB.`] : []),
    '',
  ];
  return lines.join('\n');
}

/** What each gateway ratio measures, in words, with this run's figures. */
function gatewayNote(r: BenchResults, us: (m: Measured | undefined) => string): string[] {
  const cost = r.ours.direct.upstreamUsPerRequest === undefined ? '' : ` in ~${us(r.ours.direct)} µs of CPU`;
  const noop = `The two gateway ratios answer different questions. **No-op upstream**: the upstream answers a 27-byte constant${cost}, ` +
    `so the ratio compares the gateway's own per-request work (bearer check, proxying) with almost nothing: ` +
    `it is the gateway's cost in isolation, a worst case no real API sees.`;
  const w = r.ours.directWork;
  const representative = w
    ? ` **Representative upstream**: each request costs the upstream ~${us(w)} µs of CPU (it builds, sorts and serialises a page of 50 ` +
      'records, about 12 KB, with an ETag), so the ratio is the share of such an API\'s throughput left when its clients go through the gateway ' +
      'on the same cores.'
    : ' (The representative-upstream comparison was not part of this run.)';
  return [noop + representative, ''];
}

// `node --import tsx bench/report.ts bench/results.json` renders the Markdown again (after a change to this template).
if (process.argv[1]?.endsWith('report.ts') && process.argv[2]) {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const results = JSON.parse(readFileSync(process.argv[2], 'utf8')) as BenchResults;
  writeFileSync(process.argv[2].replace(/\.json$/, '.md'), renderMarkdown(results));
}
