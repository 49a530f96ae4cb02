import type { Command } from 'commander';
import { configFrom, print, UsageError, withCore, withSettings, type Io } from '../io.js';

/** Accepts an ISO time or a relative one like 15m, 2h, 7d. */
export function parseSince(text: string, now: number): number {
  const rel = /^(\d+)([smhd])$/.exec(text);
  if (rel) return now - Number(rel[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--since: "${text}" is neither an ISO time nor like 15m, 2h, 7d`);
  return t;
}

/** `rcauth audit [--user NAME] [--since TIME]`: security events, newest first. */
export function auditCommand(program: Command, io: Io): void {
  withSettings(program.command('audit').description('security events: logins, reuse, revocations, account and key changes'), false)
    .option('--user <name>', 'only events of this username')
    .option('--type <type>', 'only events of this type (login, refresh_reuse, …)')
    .option('--since <time>', 'ISO time, or relative: 15m, 2h, 7d')
    .option('--limit <n>', 'at most this many events', '100')
    .action(async (opts: { user?: string; type?: string; since?: string; limit: string; json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd, io);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100000) throw new UsageError('--limit: a whole number from 1 to 100000');
      const since = opts.since ? parseSince(opts.since, Date.now()) : undefined;
      await withCore(config, async (core) => {
        const events = await core.store.listAudit({ username: opts.user, type: opts.type, since, limit });
        const rows = events.map((e) => ({ ...e, at: new Date(e.at).toISOString() }));
        print(io, Boolean(opts.json), rows, rows.map((e) =>
          [e.at, e.type, e.outcome, e.username ?? '-', e.clientIp ?? '-', e.actor ? `by ${e.actor}` : '', e.detail ? JSON.stringify(e.detail) : ''].join('  ').trimEnd(),
        ).join('\n'));
      });
    });
}
