import type { Command } from 'commander';
import { configFrom, print, withCore, withSettings, type Io } from '../io.js';

/** `rcauth keys list|rotate` (SPEC §5). */
export function keysCommand(program: Command, io: Io): void {
  const keys = program.command('keys').description('signing keys');
  const show = (k: { kid: string; alg: string; status: string; createdAt: number; retiredAt: number | null }) => ({
    kid: k.kid, alg: k.alg, status: k.status, createdAt: new Date(k.createdAt).toISOString(), retiredAt: k.retiredAt ? new Date(k.retiredAt).toISOString() : null,
  });

  withSettings(keys.command('list').description('signing keys and their status'), false)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        const list = core.keys.list().map(show);
        print(io, Boolean(opts.json), list, list.map((k) => `${k.kid}  ${k.alg}  ${k.status.padEnd(7)}  created ${k.createdAt}`).join('\n'));
      });
    });

  withSettings(keys.command('rotate').description('make a new active key; the old one stays published until its tokens expire'), false)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        const key = await core.keys.rotate();
        await core.audit.record({ type: 'key_rotated', outcome: 'ok', actor: 'cli', detail: { kid: key.kid } });
        print(io, Boolean(opts.json), { kid: key.kid, alg: key.alg }, `new active key ${key.kid}`);
      });
    });
}
