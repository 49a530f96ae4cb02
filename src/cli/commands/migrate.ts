import type { Command } from 'commander';
import { openStore } from '../../runtime.js';
import { configFrom, print, withSettings, type Io } from '../io.js';

/** `rcauth migrate`: brings the store's schema up to date (serve does it too, under a lock). */
export function migrateCommand(program: Command, io: Io): void {
  withSettings(program.command('migrate').description("bring the store's schema up to date"), false)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const store = await openStore(configFrom(cmd, io));
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
      print(io, Boolean(opts.json), { migrated: true, dialect: store.dialect }, `schema up to date (${store.dialect})`);
    });
}
