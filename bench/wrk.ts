/**
 * wrk as bench/load.ts's load generator: the Lua scripts for the three
 * scenarios, the run itself (bounded, killed if it overstays) and its summary.
 *
 * Every script ends with the same `done()`, which prints one JSON line: wrk's
 * own counters, latency percentiles, the statuses the script saw (only where it
 * reads responses) and wrk's CPU time from /proc/self/stat, read after its
 * threads have stopped so that it covers the whole run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WrkSummary {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  /** Responses with a status above 399 (wrk's own count). */
  status: number;
  /** Responses that came later than --timeout (counted in `requests` too). */
  timeout: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** utime + stime of the wrk process, in clock ticks. */
  cpuTicks: number;
  /** Refresh only: answers that broke a chain, and logins made because a thread ran out of tokens. */
  restarts: number;
  relogins: number;
  /** Refresh only (the scenario that reads responses): count per status. */
  statuses: Record<string, number>;
}

/**
 * A Lua string literal for any text: printable ASCII as is, every other byte as
 * a three-digit decimal escape (three digits, so a following digit is not read
 * as part of it).
 */
export function lua(text: string): string {
  let out = '"';
  for (const b of Buffer.from(text, 'utf8')) {
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

const luaList = (items: string[]): string => `{${items.map(lua).join(',')}}`;

/** A whole HTTP/1.1 request, so the scripts only pick one. */
export function rawRequest(method: string, path: string, host: string, headers: Record<string, string>, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body || method !== 'GET') lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

const COMMON = `
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("tid", #threads)
  if per_thread then per_thread(thread, #threads) end
end

function done(summary, latency, requests)
  local statuses, restarts, relogins = {}, 0, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do statuses[k] = (statuses[k] or 0) + v end
    restarts = restarts + (t:get("restarts") or 0)
    relogins = relogins + (t:get("relogins") or 0)
  end
  local ticks = -1
  local f = io.open("/proc/self/stat", "r")
  if f then
    -- The command name is in parentheses and may hold spaces: split after the last ")".
    local rest = f:read("*a"):match("^.*%) (.*)$")
    f:close()
    local fields = {}
    for field in rest:gmatch("%S+") do fields[#fields + 1] = field end
    ticks = tonumber(fields[12]) + tonumber(fields[13])
  end
  local codes = {}
  for k, v in pairs(statuses) do codes[#codes + 1] = string.format('"%s":%.0f', tostring(k), v) end
  local e = summary.errors
  io.write(string.format(
    '{"wrk":1,"requests":%.0f,"durationUs":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f,' ..
    '"p50Us":%.0f,"p99Us":%.0f,"meanUs":%.1f,"cpuTicks":%.0f,"restarts":%.0f,"relogins":%.0f,"statuses":{%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, ticks, restarts, relogins, table.concat(codes, ",")))
end
`;

/** A fixed request (GET, with its headers): wrk sends the same bytes every time without entering Lua. */
export function staticScript(method: string, headers: Record<string, string>): string {
  const set = Object.entries(headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`).join('\n');
  return `wrk.method = ${lua(method)}\n${set}\n${COMMON}`;
}

/**
 * Cycles over prebuilt requests (the logins, one per user). Each thread starts
 * at its own offset so that two threads do not log the same user in at once.
 */
export function cycleScript(requests: string[], threads: number): string {
  return `
local reqs = ${luaList(requests)}
local i = 0
function per_thread(thread, n)
  thread:set("start", math.floor((n - 1) * #reqs / ${threads}))
end
function init(args)
  i = start or 0
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
${COMMON}`;
}

/**
 * Refresh chains. Each thread keeps its own pool of unused refresh tokens
 * (handed over, one disjoint slice per thread, by setup()); a request takes one
 * out, and a 200 puts its successor back. A token therefore goes out once:
 * after a failure (or a reconnect, where wrk asks for a new request) the chain
 * moves on to a spare instead of repeating a token the server may already have
 * rotated. A thread out of spares logs in to start a new chain.
 *
 * `head` is the request up to the Content-Length value; `prefix`/`suffix`
 * surround the token in the body; `form` percent-encodes the token.
 */
export function refreshScript(opts: { slices: string[][]; head: string; prefix: string; suffix: string; form: boolean; logins: string[] }): string {
  return `
local slices = {${opts.slices.map(luaList).join(',')}}
local logins = ${luaList(opts.logins)}
local head, prefix, suffix, form = ${lua(opts.head)}, ${lua(opts.prefix)}, ${lua(opts.suffix)}, ${opts.form}
local li = 0
restarts, relogins, statuses = 0, 0, {}

function per_thread(thread, n)
  thread:set("pool", slices[n])
end

local function enc(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  local token = table.remove(pool)
  if token == nil then
    relogins = relogins + 1
    li = li % #logins + 1
    return logins[li]
  end
  local body = prefix .. (form and enc(token) or token) .. suffix
  return head .. #body .. "\\r\\n\\r\\n" .. body
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      pool[#pool + 1] = token
      return
    end
  end
  restarts = restarts + 1
end
${COMMON}`;
}

/** Runs wrk with `script` for `duration` seconds; SIGKILLs it if it is still there well after that. */
export function runWrk(url: string, script: string, opts: { threads: number; connections: number; duration: number; timeoutSeconds: number }): Promise<WrkSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-wrk-'));
  const file = join(dir, 'scenario.lua');
  writeFileSync(file, script);
  const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.duration}s`, '--timeout', `${opts.timeoutSeconds}s`, '-s', file, url];
  return new Promise<WrkSummary>((done, fail) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    // wrk stops itself after -d; this only guards against a wedged run holding the bench (and the lock) forever.
    const killer = setTimeout(() => child.kill('SIGKILL'), (opts.duration + 30) * 1000);
    child.on('error', (e) => {
      clearTimeout(killer);
      fail(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
      const line = out.split('\n').reverse().find((l) => l.startsWith('{"wrk":'));
      if (code !== 0 || !line) {
        fail(new Error(`wrk ${args.join(' ')} ended with ${signal ?? code}: ${err.trim() || out.trim()}`));
        return;
      }
      // Lua errors inside request()/response() do not stop wrk; they would make the figures meaningless.
      if (/error|PANIC/i.test(err)) {
        fail(new Error(`wrk script failed: ${err.trim()}`));
        return;
      }
      done(JSON.parse(line) as WrkSummary);
    });
  });
}
