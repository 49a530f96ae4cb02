import { settings, type Config, type Setting } from './schema.js';

/** A bad setting: the CLI prints the message and exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function parseValue(s: Setting, raw: string | boolean | undefined, source: string): unknown {
  const where = `${s.flag} (${s.env}) from ${source}`;
  if (typeof raw === 'boolean') {
    if (s.type !== 'bool') throw new ConfigError(`${where}: a value is required`);
    return raw;
  }
  const text = raw ?? '';
  switch (s.type) {
    case 'int': {
      if (!/^-?\d+$/.test(text.trim())) throw new ConfigError(`${where}: "${s.secret ? '…' : text}" is not a whole number`);
      const n = Number(text.trim());
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        throw new ConfigError(`${where}: ${n} is outside ${s.min ?? '-∞'}..${s.max ?? '∞'}`);
      }
      return n;
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(t)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
      throw new ConfigError(`${where}: "${text}" is not true/false`);
    }
    case 'list':
      return text.split(',').map((v) => v.trim()).filter(Boolean);
    case 'enum':
      if (!s.values?.includes(text)) throw new ConfigError(`${where}: "${text}" is not one of ${s.values?.join(', ')}`);
      return text;
    default:
      return text;
  }
}

/**
 * Resolves every setting: flag > environment > default; validates and freezes.
 *
 * @example loadConfig({ port: '9000' }, process.env)
 */
export function loadConfig(flags: Record<string, string | boolean | undefined>, env: Record<string, string | undefined>): Config {
  const out: Record<string, unknown> = {};
  for (const s of settings as readonly Setting[]) {
    let value: unknown;
    if (flags[s.key] !== undefined) value = parseValue(s, flags[s.key], 'the command line');
    else if (env[s.env] !== undefined && env[s.env] !== '') value = parseValue(s, env[s.env], 'the environment');
    else value = s.default;
    const problem = s.check?.(value);
    if (problem) throw new ConfigError(`${s.flag} (${s.env}): ${problem}`);
    out[s.key] = Array.isArray(value) ? Object.freeze([...value]) : value;
  }
  if (Boolean(out.tlsCert) !== Boolean(out.tlsKey)) throw new ConfigError('--tls-cert and --tls-key go together');
  return Object.freeze(out) as Config;
}

/** The defaults alone (tests and library use). */
export function defaultConfig(overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  return Object.freeze({ ...loadConfig({}, {}), ...overrides }) as Config;
}
