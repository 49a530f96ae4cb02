/**
 * The load generator, run by bench/run.ts in its own process so that its CPU
 * is not the server's: one autocannon scenario against one server, for a
 * bounded time, then one JSON line with the figures on stdout.
 *
 *   node --import tsx bench/load.ts '<LoadSpec as JSON>'
 */
import autocannon, { type Client, type RequestSpec, type Result } from 'autocannon';

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
}

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
      out.push(String((await tokenRequest(spec, { grant_type: 'password', username: u.username, password: u.password })).refresh_token));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const base = { url: spec.origin, connections: spec.connections, duration: spec.duration, timeout: 10 };
  let chainRestarts = 0;
  let result: Result;

  if (spec.scenario === 'login') {
    // Many distinct users, in turn: no username sees enough traffic to matter to throttling.
    let i = 0;
    const request: RequestSpec = {
      method: 'POST', path: spec.path,
      setupRequest: (req) => {
        const u = spec.users[i++ % spec.users.length]!;
        const { body, contentType } = encode(spec.format, { grant_type: 'password', username: u.username, password: u.password, ...spec.extra });
        return { ...req, body, headers: { 'content-type': contentType } };
      },
    };
    result = await autocannon({ ...base, requests: [request] });
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
    result = await autocannon({ ...base, requests: [request], setupClient });
  } else {
    const headers: Record<string, string> = {};
    if (spec.bearer) {
      const u = spec.users[0]!;
      const t = await tokenRequest(spec, { grant_type: 'password', username: u.username, password: u.password });
      headers.authorization = `Bearer ${String(t.access_token)}`;
    }
    result = await autocannon({ ...base, method: 'GET', headers, requests: [{ method: 'GET', path: spec.path, headers }] });
  }

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
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
run(spec).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: Error) => {
    process.stderr.write(`load: ${err.message}\n`);
    process.exit(1);
  },
);
