/** Process plumbing for the benchmark: children, their first JSON line, RSS and CPU from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin/rcauth.js');
const TSX = ['--import', 'tsx'];

/** Runs `node --import tsx bench/<script> <json>` and resolves with the JSON line it prints last. */
export function runScript<T>(script: string, input: unknown, env: Record<string, string> = {}): Promise<T> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...TSX, join(ROOT, 'bench', script), JSON.stringify(input)], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('error', fail);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) fail(new Error(`${script} exited with ${code}: ${err.trim()}`));
      else done(JSON.parse(last) as T);
    });
  });
}

export interface Service {
  child: ChildProcess;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts a long-running bench script that prints {"port":N} when it listens. */
export function startScript(script: string, input: unknown, env: Record<string, string> = {}): Promise<Service> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...TSX, join(ROOT, 'bench', script), JSON.stringify(input)], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`${script} did not start in 30 s: ${err}`)), 30_000);
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        done({ child, pid: child.pid!, port: Number(m[1]), stop: () => stopChild(child) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}: ${err}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 15 s; resolves when the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface Rcauth extends Service {
  url: string;
  /** Throws (with the end of the server's log) if the server has exited: figures after that would be meaningless. */
  assertAlive(): void;
  /** Milliseconds from spawn to the `listening` line, and the server's own figure. */
  wallMs: number;
  serverMs: number;
  logFile: string;
}

/**
 * Starts `rcauth serve` with its log going to a file (as under a process
 * manager): a pipe the benchmark had to drain would cost the server CPU.
 */
export async function startRcauth(args: string[], logFile: string, nodeArgs: string[] = []): Promise<Rcauth> {
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'serve', ...args], { cwd: ROOT, env: process.env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(logFile, 'utf8');
    const line = text.split('\n').find((l) => /"msg":"listening"/.test(l) && /"url"/.test(l));
    if (line) {
      const wallMs = performance.now() - t0;
      const parsed = JSON.parse(line) as { url: string; ms: number };
      let stopping = false;
      let exit: string | null = null;
      child.once('exit', (code, signal) => (exit = `exit code ${code}, signal ${signal}`));
      return {
        child, pid: child.pid!, url: parsed.url, port: Number(new URL(parsed.url).port), wallMs: Math.round(wallMs), serverMs: parsed.ms, logFile,
        stop: () => {
          stopping = true;
          return stopChild(child);
        },
        assertAlive: () => {
          if (exit === null || stopping) return;
          const tail = readFileSync(logFile, 'utf8').split('\n').filter((l) => !l.includes('"msg":"request"')).slice(-15).join('\n');
          throw new Error(`rcauth serve (pid ${child.pid}) ended during the bench (${exit}); its log ends with:\n${tail}`);
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`rcauth serve did not start:\n${text}`);
    await sleep(5);
  }
}

/** The pid and every live descendant (cluster workers). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) comes after the command, which is in parentheses and may contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of parents.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** Resident set size of the process and its descendants, MiB (VmRSS from /proc). */
export function rssMiB(pid: number): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // gone
    }
  }
  return Math.round((kib / 1024) * 10) / 10;
}

/** CPU seconds (user + system) used so far by the process and its live descendants. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of /proc/PID/stat (here 12 and 13 after the command).
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

/** Samples RSS every `everyMs` until stopped; returns the peak and the samples. */
export function sampleRss(pid: number, everyMs = 500): { stop: () => { peak: number; samples: number[] } } {
  const samples: number[] = [rssMiB(pid)];
  const timer = setInterval(() => samples.push(rssMiB(pid)), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(rssMiB(pid));
      return { peak: Math.max(...samples), samples };
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The 1-minute load average: how busy the machine was apart from us (recorded with every figure). */
export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Share of all CPU time that was busy over `ms` (from /proc/stat). */
export async function busyShare(ms: number): Promise<number> {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are "not busy".
    const idle = f[3]! + f[4]!;
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits until the machine is quiet (under 10 % busy for 15 s in a row), at most
 * `seconds`: figures taken while other work runs on the same cores mean little.
 */
export async function waitForIdle(seconds: number, log: (m: string) => void): Promise<boolean> {
  const end = Date.now() + seconds * 1000;
  let quiet = 0;
  let said = false;
  while (Date.now() < end) {
    const busy = await busyShare(5000);
    quiet = busy < 0.1 ? quiet + 1 : 0;
    if (quiet >= 3) return true;
    if (!said) log(`waiting up to ${seconds} s for the machine to be idle (now ${Math.round(busy * 100)} % busy)`);
    said = true;
  }
  log('the machine did not become idle; measuring anyway (see the load column)');
  return false;
}

export type LoadGenerator = 'wrk' | 'autocannon';

/** The first executable called `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * wrk when it is installed (it costs the shared cores far less than
 * autocannon, which parses every response in JavaScript), else autocannon.
 * Asking for wrk explicitly when it is missing is an error rather than a
 * silent switch, so a figure is never attributed to the wrong tool.
 */
export function resolveLoadGenerator(requested: string | undefined, log: (m: string) => void = () => {}): LoadGenerator {
  if (requested !== undefined && requested !== 'wrk' && requested !== 'autocannon') {
    throw new Error(`--load-generator takes wrk or autocannon, not ${JSON.stringify(requested)}`);
  }
  if (requested === 'autocannon') return 'autocannon';
  if (findOnPath('wrk')) return 'wrk';
  if (requested === 'wrk') throw new Error('--load-generator wrk: no wrk on PATH (Debian/Ubuntu: apt-get install wrk)');
  log('wrk is not on PATH: using autocannon, which takes more of the shared CPU (apt-get install wrk for the lighter generator)');
  return 'autocannon';
}
