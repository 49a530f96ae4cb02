/**
 * Starts the real server (`node bin/rcauth.js serve`) as a child process on a free
 * port with a temporary data directory, and runs CLI commands against the same store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin/rcauth.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ServerOptions {
  /** Extra `serve` flags, e.g. ['--access-ttl', '10']. */
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests); default a new temporary one. */
  dataDir?: string;
  /** postgres://… to run on PostgreSQL. */
  databaseUrl?: string;
  /** Keep the default per-IP request limit (tests turn it off otherwise). */
  rateLimit?: boolean;
}

export interface ServerHandle {
  url: string;
  port: number;
  dataDir: string;
  adminUsername: string;
  adminPassword: string;
  process: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  logs(): string;
  cli(args: string[], stdin?: string): Promise<CliResult>;
  stop(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `rcauth <args>` against a data dir / database; resolves when it exits. */
export function runCli(args: string[], opts: { dataDir?: string; databaseUrl?: string; stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const extra = [...(opts.dataDir ? ['--data-dir', opts.dataDir] : []), ...(opts.databaseUrl ? ['--database-url', opts.databaseUrl] : [])];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args, ...extra], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rcauth-test-'));
  const ownsDir = options.dataDir === undefined;
  const args = [
    BIN, 'serve', '--port', '0', '--data-dir', dataDir,
    ...(options.rateLimit ? [] : ['--rate-limit', '0']),
    ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in 20 s:\n${output}`)), 20_000);
    const onData = (c: Buffer) => {
      output += c;
      const m = /"url":"([^"]+)"[^\n]*"msg":"listening"/.exec(output);
      if (m) {
        clearTimeout(timer);
        done(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c));
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  let adminPassword = '';
  try {
    adminPassword = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  } catch {
    // Not the first start of this store: the admin password was set earlier.
  }
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await exited;
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    adminUsername: 'admin',
    adminPassword,
    process: child,
    logs: () => output,
    cli: (cliArgs, stdin) => runCli(cliArgs, { dataDir, databaseUrl: options.databaseUrl, stdin, env: options.env }),
    stop,
    kill: async (signal = 'SIGKILL') => {
      child.kill(signal);
      await exited;
    },
  };
}

/** POSTs a JSON body to /api/{version}/auth and returns status, headers and parsed body. */
export async function postAuth(url: string, body: unknown, init: { version?: string; contentType?: string; raw?: string | Uint8Array; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${url}/api/${init.version ?? 'v140'}/auth`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json', ...init.headers },
    body: (init.raw ?? JSON.stringify(body)) as string,
  });
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> };
}

/** Creates an account through the CLI; returns its password. */
export async function addUser(server: ServerHandle, name: string, password = `pw-${name}-Secure-123`, scopes?: string): Promise<string> {
  const r = await server.cli(['user', 'add', name, '--password-stdin', ...(scopes ? ['--scope', scopes] : [])], password);
  if (r.code !== 0) throw new Error(`user add ${name} failed: ${r.stderr}`);
  return password;
}

/** Logs in and returns the token response. */
export async function login(url: string, username: string, password: string, extra: Record<string, string> = {}) {
  const r = await postAuth(url, { username, password, ...extra });
  if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${r.text}`);
  return r.json as { token_type: string; expires_in: number; access_token: string; refresh_token: string };
}
