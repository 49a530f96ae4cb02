import { CommanderError, Option, type Command } from 'commander';
import { settings, type Config, type Setting } from '../config/schema.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createCore, type Core } from '../core/index.js';
import { OAuthError, StoreUnavailable } from '../core/errors.js';
import { coreOptions, openStore } from '../runtime.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => Promise<string>;
  env: Record<string, string | undefined>;
}

/** Adds the schema's settings as options (all for serve; the shared ones elsewhere). */
export function withSettings(cmd: Command, all: boolean): Command {
  for (const s of settings as readonly Setting[]) {
    if (s.serveOnly && !all) continue;
    const flag = s.type === 'bool' ? s.flag : `${s.flag} <value>`;
    const shown = s.secret || (Array.isArray(s.default) && s.default.length === 0) || s.default === '' ? '' : ` (default: ${String(s.default)})`;
    cmd.addOption(new Option(flag, `${s.description}${shown} [${s.env}]`));
  }
  return cmd.option('--json', 'machine-readable output');
}

/** Flags as given (commander's camelCase keys match the schema keys). */
export function configFrom(cmd: Command, io: Io): Config {
  const raw = cmd.optsWithGlobals() as Record<string, string | boolean | undefined>;
  const flags: Record<string, string | boolean | undefined> = {};
  for (const s of settings as readonly Setting[]) if (raw[s.key] !== undefined) flags[s.key] = raw[s.key];
  return loadConfig(flags, io.env);
}

/** Opens the store and the core for a one-shot admin command. */
export async function withCore<T>(config: Config, fn: (core: Core) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    await store.migrate();
    const core = await createCore(store, coreOptions(config));
    return await fn(core);
  } finally {
    await store.close();
  }
}

/** Maps a failure to the exit code and a one-line message on stderr (never a stack). */
export function reportError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (err instanceof ConfigError) {
    io.stderr(`rcauth: configuration error: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    io.stderr(`rcauth: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof OAuthError) {
    io.stderr(`rcauth: ${err.message}\n`);
    return EXIT_FAILED;
  }
  if (err instanceof StoreUnavailable) {
    io.stderr(`rcauth: the store cannot be reached: ${(err.cause as Error | undefined)?.message ?? err.message}\n`);
    return EXIT_FAILED;
  }
  io.stderr(`rcauth: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT_FAILED;
}

export class UsageError extends Error {}

/** Reads a password from stdin: one line, only the final newline removed (never trimmed). */
export async function readPassword(io: Io): Promise<string> {
  const text = await io.stdin();
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('--password-stdin: no password on standard input');
  return password;
}

export function print(io: Io, json: boolean, data: unknown, text: string): void {
  io.stdout(json ? `${JSON.stringify(data, null, 2)}\n` : text.endsWith('\n') || text === '' ? text : `${text}\n`);
}
