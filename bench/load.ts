/**
 * The load generator, run by bench/run.ts in its own process so that its CPU
 * is not the server's: one scenario against one server, for a bounded time,
 * then one JSON line with the figures on stdout. The requests go out from wrk
 * (bench/wrk.ts, a C program driven by a small Lua script) when it is installed,
 * else from autocannon in this process; `generator` picks one.
 *
 *   node --import tsx bench/load.ts '<LoadSpec as JSON>'
 */
import type { Client, RequestSpec, Result } from 'autocannon';
import { cpuSeconds, resolveLoadGenerator, type LoadGenerator } from './lib.js';
import { cycleScript, rawRequest, refreshScript, runWrk, staticScript, type WrkSummary } from './wrk.js';

export type Scenario = 'login' | 'refresh' | 'get';

export interface LoadSpec {
  scenario: Scenario;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Where the scenario's requests go (the token endpoint, or any path for `get`). */
  path: string;
  /** Where logins go, to make sessions or a bearer token (default `path`). */
  loginPath?: string;
  duration: number;
  connections: number;
  /** Body encoding of token requests: the documented JSON call, or an OAuth2 form. */
  format: 'json' | 'form';
  /** Extra body members on every token request (e.g. client_id for the peer). */
  extra?: Record<string, string>;
  users: { username: string; password: string }[];
  /** `get` only: log in first and send the access token as a bearer. */
  bearer?: boolean;
  /** Default: wrk if it is on PATH, else autocannon. */
  generator?: LoadGenerator;
  /** wrk threads (default 1: see WRK_THREADS). */
  threads?: number;
}

export interface LoadResult {
  scenario: Scenario;
  connections: number;
  seconds: number;
  requests: number;
  ok: number;
  /** 2xx responses per second: the figure the ratios use. */
  okPerSec: number;
  p50: number;
  p99: number;
  mean: number;
  /** Non-2xx responses. */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  statusCodes: Record<string, number>;
  /** Refresh chains that had to restart from a spare session after a failure. */
  chainRestarts: number;
  /** wrk refresh only: logins made because a thread had no spare token left. */
  relogins?: number;
  generator: LoadGenerator;
  /** CPU the load generator itself used during the run, in cores (utime + stime from /proc). */
  generatorCores: number;
}

/**
 * One wrk thread: on two cores it drives every scenario here as fast as two
 * threads do (the server is the bottleneck) and spends less CPU on it.
 */
const WRK_THREADS = 1;
/** Seconds before a request counts as timed out (both generators). */
const TIMEOUT = 10;
/** Clock ticks per second for /proc/PID/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

function encode(format: LoadSpec['format'], fields: Record<string, string>): { body: string; contentType: string } {
  return format === 'json'
    ? { body: JSON.stringify(fields), contentType: 'application/json' }
    : { body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded' };
}

async function tokenRequest(spec: LoadSpec, fields: Record<string, string>): Promise<Record<string, unknown>> {
  const { body, contentType } = encode(spec.format, { ...fields, ...spec.extra });
  const res = await fetch(`${spec.origin}${spec.loginPath ?? spec.path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Logs in `n` times over the users, a few at a time (each login is an argon2 verify on the server). */
async function sessions(spec: LoadSpec, n: number): Promise<string[]> {
  const out: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const u = spec.users[next++ % spec.users.length]!;
      out.push(String((await tokenRequest(spec, passwordGrant(u))).refresh_token));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

function passwordGrant(u: LoadSpec['users'][number]): Record<string, string> {
  return { grant_type: 'password', username: u.username, password: u.password };
}

/** For `get` with `bearer`: log in once and send that access token on every request. */
async function bearerHeaders(spec: LoadSpec): Promise<Record<string, string>> {
  if (!spec.bearer) return {};
  const t = await tokenRequest(spec, passwordGrant(spec.users[0]!));
  return { Authorization: `Bearer ${String(t.access_token)}` };
}

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  // Loaded only here: a wrk run should not pay for it.
  const { default: autocannon } = await import('autocannon');
  const base = { url: spec.origin, connections: spec.connections, duration: spec.duration, timeout: TIMEOUT };
  let cpu0 = 0;
  const timed = async (opts: Parameters<typeof autocannon>[0]) => {
    cpu0 = cpuSeconds(process.pid);
    return autocannon(opts);
  };
  let chainRestarts = 0;
  let result: Result;

  if (spec.scenario === 'login') {
    // Many distinct users, in turn: no username sees enough traffic to matter to throttling.
    let i = 0;
    const request: RequestSpec = {
      method: 'POST', path: spec.path,
      setupRequest: (req) => {
        const u = spec.users[i++ % spec.users.length]!;
        const { body, contentType } = encode(spec.format, { ...passwordGrant(u), ...spec.extra });
        return { ...req, body, headers: { 'content-type': contentType } };
      },
    };
    result = await timed({ ...base, requests: [request] });
  } else if (spec.scenario === 'refresh') {
    // Every refresh needs a fresh, unused token: one chain per connection, each
    // request carrying the token the previous response returned. Spares restart
    // a chain that broke (a timeout re-sends a token that may have been used).
    const pool = await sessions(spec, spec.connections * 2);
    const request: RequestSpec = {
      method: 'POST', path: spec.path,
      setupRequest: (req, ctx) => {
        const { body, contentType } = encode(spec.format, { grant_type: 'refresh_token', refresh_token: String(ctx.token), ...spec.extra });
        return { ...req, body, headers: { 'content-type': contentType } };
      },
      onResponse: (status, body, ctx) => {
        if (status === 200) {
          ctx.token = (JSON.parse(body) as { refresh_token: string }).refresh_token;
        } else {
          chainRestarts++;
          ctx.token = pool.pop() ?? ctx.token;
        }
      },
    };
    const setupClient = (client: Client) => {
      // autocannon 9 resets a connection's context after each pass over
      // `requests` (here: after every request); a chain must outlive that.
      const it = client.requestIterator;
      it.resetContext = () => {};
      it.context = { token: pool.pop() };
      it.rebuildRequest();
    };
    result = await timed({ ...base, requests: [request], setupClient });
  } else {
    const headers = await bearerHeaders(spec);
    result = await timed({ ...base, method: 'GET', headers, requests: [{ method: 'GET', path: spec.path, headers }] });
  }

  const cpu = cpuSeconds(process.pid) - cpu0;
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
  return {
    scenario: spec.scenario,
    connections: spec.connections,
    seconds: result.duration,
    requests: result.requests.total,
    ok: result['2xx'],
    okPerSec: Math.round(result['2xx'] / result.duration),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: Math.round(result.latency.mean * 100) / 100,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes,
    chainRestarts,
    generator: 'autocannon',
    generatorCores: round(cpu / result.duration, 2),
  };
}

async function runWrkScenario(spec: LoadSpec): Promise<LoadResult> {
  const threads = Math.max(1, Math.min(spec.threads ?? WRK_THREADS, spec.connections));
  const url = new URL(spec.path, spec.origin);
  const host = url.host;
  const loginRequests = spec.users.map((u) => {
    const { body, contentType } = encode(spec.format, { ...passwordGrant(u), ...spec.extra });
    return rawRequest('POST', spec.loginPath ?? spec.path, host, { 'Content-Type': contentType }, body);
  });
  let script: string;
  if (spec.scenario === 'login') {
    script = cycleScript(loginRequests, threads);
  } else if (spec.scenario === 'refresh') {
    const pool = await sessions(spec, spec.connections * 2);
    // The body around a placeholder made of letters, which neither encoding changes.
    const MARK = 'RefreshTokenGoesHere';
    const { body, contentType } = encode(spec.format, { grant_type: 'refresh_token', refresh_token: MARK, ...spec.extra });
    const [prefix, suffix] = body.split(MARK) as [string, string];
    const head = rawRequest('POST', spec.path, host, { 'Content-Type': contentType }).replace(/Content-Length: 0\r\n\r\n$/, 'Content-Length: ');
    // JSON bodies carry the token as is: it must not need escaping.
    const bad = pool.find((t) => !/^[\x21-\x7e]+$/.test(t) || /["\\]/.test(t));
    if (bad !== undefined) throw new Error(`a refresh token the wrk script cannot send verbatim: ${JSON.stringify(bad)}`);
    const slices = Array.from({ length: threads }, (_, k) => pool.filter((_t, j) => j % threads === k));
    script = refreshScript({ slices, head, prefix, suffix, form: spec.format === 'form', logins: loginRequests });
  } else {
    script = staticScript('GET', await bearerHeaders(spec));
  }
  const w: WrkSummary = await runWrk(url.href, script, { threads, connections: spec.connections, duration: spec.duration, timeoutSeconds: TIMEOUT });
  const seconds = w.durationUs / 1e6;
  const reads = Object.keys(w.statuses).length > 0;
  // Where the script does not read responses, wrk only tells statuses above
  // 399 apart; none of the bench's endpoints answers 1xx or 3xx.
  const non2xx = reads ? Object.entries(w.statuses).filter(([k]) => !k.startsWith('2')).reduce((a, [, v]) => a + v, 0) : w.status;
  // A late answer is counted in `requests` and in `timeout`; like autocannon, which
  // gives up on it, it is not counted as a success.
  const ok = Math.max(0, w.requests - non2xx - w.timeout);
  const statusCodes = reads ? w.statuses : Object.fromEntries(Object.entries({ '2xx': w.requests - w.status, '4xx/5xx': w.status }).filter(([, v]) => v > 0));
  return {
    scenario: spec.scenario,
    connections: spec.connections,
    seconds: round(seconds, 2),
    requests: w.requests,
    ok,
    okPerSec: Math.round(ok / seconds),
    p50: round(w.p50Us / 1000, 2),
    p99: round(w.p99Us / 1000, 2),
    mean: round(w.meanUs / 1000, 2),
    non2xx,
    errors: w.connect + w.read + w.write + w.timeout,
    statusCodes,
    chainRestarts: w.restarts,
    ...(spec.scenario === 'refresh' ? { relogins: w.relogins } : {}),
    generator: 'wrk',
    generatorCores: w.cpuTicks >= 0 ? round(w.cpuTicks / TICKS / seconds, 2) : NaN,
  };
}

function run(spec: LoadSpec): Promise<LoadResult> {
  const generator = spec.generator ?? resolveLoadGenerator(undefined, (m) => process.stderr.write(`load: ${m}\n`));
  return generator === 'wrk' ? runWrkScenario(spec) : runAutocannon(spec);
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
run(spec).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: Error) => {
    process.stderr.write(`load: ${err.message}\n`);
    process.exit(1);
  },
);
