/**
 * A real, throwaway PostgreSQL server for tests: Debian's binaries, a fresh data
 * directory under the system temp dir, a free port on 127.0.0.1, trust auth.
 * Nothing outlives the test process: stop() removes everything and an exit hook
 * covers tests that forget to call it or die half-way.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

export interface TestPostgres {
  /** Connection URL of the `postgres` database, superuser `postgres`. */
  url: string;
  /** Stops the server and deletes its files; safe to call twice. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown), keeping its data: an outage. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port and data directory. */
  resume(): Promise<void>;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
}

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';
const START_TIMEOUT_S = 30;

/**
 * Starts a fresh server; takes a second or two.
 *
 * @example
 * const pg = await startPostgres();
 * const store = new PostgresStore(await pg.createDatabase('contract'));
 * // ...
 * await pg.stop();
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'rcauth-pg-'));
  const data = join(dir, 'data');
  // initdb and postgres refuse to run as root, so root hands the directory to the postgres user.
  if (asRoot) chownToPostgres(dir);
  const cmd = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', OS_USER, '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const exec = async (tool: string, args: string[]): Promise<void> => {
    const [file, argv] = cmd(tool, args);
    try {
      await run(file, argv, { cwd: dir });
    } catch (err) {
      throw new Error(`${tool} failed: ${describeExecError(err)}\n${readLog(dir)}`, { cause: err });
    }
  };

  let state: 'running' | 'paused' | 'stopped' = 'stopped';
  // Runs synchronously because 'exit' listeners cannot wait for promises.
  const kill = (): void => {
    if (state === 'running') {
      const [file, argv] = cmd('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(file, argv, { cwd: dir, stdio: 'ignore' });
      } catch {
        // Already gone; nothing left to stop.
      }
    }
    state = 'stopped';
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    kill();
    process.kill(process.pid, signal);
  };
  process.once('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unregister = (): void => {
    process.off('exit', kill);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  try {
    await exec('initdb', ['-D', data, '-U', OS_USER, '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions']);
    const port = await freePort();
    const serverOptions = [
      '-c listen_addresses=127.0.0.1', `-c port=${port}`, `-c unix_socket_directories='${dir}'`,
      '-c fsync=on', '-c max_connections=200',
    ].join(' ');
    const start = async (): Promise<void> => {
      await exec('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', serverOptions, '-t', String(START_TIMEOUT_S), '-w', 'start']);
      state = 'running';
    };
    await start();
    const url = `postgres://${OS_USER}@127.0.0.1:${port}/postgres`;

    return {
      url,
      async stop() {
        if (state === 'running') await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
        kill();
        unregister();
      },
      async pause() {
        if (state !== 'running') throw new Error(`cannot pause a ${state} server`);
        await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        state = 'paused';
      },
      async resume() {
        if (state !== 'paused') throw new Error(`cannot resume a ${state} server`);
        await start();
      },
      async createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`bad database name: ${name}`);
        const client = new Client({ connectionString: url });
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return `postgres://${OS_USER}@127.0.0.1:${port}/${name}`;
      },
    };
  } catch (err) {
    kill();
    unregister();
    throw err;
  }
}

/** The newest installed major version, e.g. /usr/lib/postgresql/16/bin. */
function findBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
    : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL server binaries not found (${PG_ROOT}/*/bin/initdb). ` +
      'The store tests need a real PostgreSQL: run .ci/run, which installs it (apt-get install postgresql).',
    );
  }
  return join(PG_ROOT, versions[0]!, 'bin');
}

function chownToPostgres(dir: string): void {
  const entry = readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith(`${OS_USER}:`));
  if (!entry) {
    throw new Error(`the "${OS_USER}" OS user is missing (tests run as root need it to run PostgreSQL); run .ci/run`);
  }
  const [, , uid, gid] = entry.split(':');
  chownSync(dir, Number(uid), Number(gid));
}

/** Asks the OS for a port that is free right now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function describeExecError(err: unknown): string {
  const e = err as { message?: string; stderr?: string; stdout?: string };
  return [e.message, e.stderr, e.stdout].filter(Boolean).join('\n');
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'server.log'), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}
