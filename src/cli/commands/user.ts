import type { Command } from 'commander';
import type { AccountRecord } from '../../core/store.js';
import { configFrom, print, readPassword, withCore, withSettings, type Io } from '../io.js';

const CLI = { actor: 'cli' };

function view(a: AccountRecord) {
  return {
    id: a.id, username: a.username, status: a.disabled ? 'disabled' : 'active', scopes: a.scopes,
    createdAt: new Date(a.createdAt).toISOString(), lastLoginAt: a.lastLoginAt ? new Date(a.lastLoginAt).toISOString() : null,
  };
}

/** `rcauth user …`: account administration (SPEC §7). */
export function userCommand(program: Command, io: Io): void {
  const user = program.command('user').description('manage accounts');

  withSettings(user.command('add <name>').description('create an account (prints a generated password once unless --password-stdin)'), false)
    .option('--password-stdin', 'read the password from standard input')
    .option('--scope <scopes>', 'comma-separated scopes (default openid,offline_access,profile)')
    .action(async (name: string, opts: { passwordStdin?: boolean; scope?: string; json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd, io);
      const password = opts.passwordStdin ? await readPassword(io) : undefined;
      const scopes = opts.scope?.split(',').map((s) => s.trim()).filter(Boolean);
      await withCore(config, async (core) => {
        const created = await core.accounts.create(name, password, scopes, CLI);
        const data = { ...view(created.account), ...(created.generated ? { password: created.password } : {}) };
        print(io, Boolean(opts.json), data, created.generated
          ? `created ${created.account.username}\npassword: ${created.password}\n(shown once; store it now)`
          : `created ${created.account.username}`);
      });
    });

  withSettings(user.command('passwd <name>').description('set a new password (ends its sessions)'), false)
    .requiredOption('--password-stdin', 'read the password from standard input')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd, io);
      const password = await readPassword(io);
      await withCore(config, async (core) => {
        const a = await core.accounts.setPassword(name, password, CLI);
        print(io, Boolean(opts.json), { username: a.username, passwordChanged: true }, `password changed for ${a.username}; its sessions ended`);
      });
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    withSettings(user.command(`${verb} <name>`).description(disabled ? 'disable an account (ends its sessions)' : 'enable an account'), false)
      .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
        await withCore(configFrom(cmd, io), async (core) => {
          const a = await core.accounts.setDisabled(name, disabled, CLI);
          print(io, Boolean(opts.json), view(a), `${a.username} ${disabled ? 'disabled' : 'enabled'}`);
        });
      });
  }

  withSettings(user.command('remove <name>').description('remove an account (ends its sessions)'), false)
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        await core.accounts.remove(name, CLI);
        print(io, Boolean(opts.json), { username: name, removed: true }, `${name} removed`);
      });
    });

  withSettings(user.command('list').description('accounts with status, scopes, last login'), false)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        const list = (await core.accounts.list()).map(view);
        const lines = list.map((a) => `${a.username.padEnd(24)} ${a.status.padEnd(9)} ${a.scopes.join(',').padEnd(40)} ${a.lastLoginAt ?? 'never'}`);
        print(io, Boolean(opts.json), list, [`${'USERNAME'.padEnd(24)} ${'STATUS'.padEnd(9)} ${'SCOPES'.padEnd(40)} LAST LOGIN`, ...lines].join('\n'));
      });
    });

  withSettings(user.command('revoke <name>').description('end all sessions of the account'), false)
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        const n = await core.accounts.revokeSessions(name, CLI);
        print(io, Boolean(opts.json), { username: name, sessionsRevoked: n }, `${n} session(s) of ${name} ended`);
      });
    });

  withSettings(user.command('unlock <name>').description("clear the account's throttling counters"), false)
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withCore(configFrom(cmd, io), async (core) => {
        await core.accounts.unlock(name, CLI);
        print(io, Boolean(opts.json), { username: name, unlocked: true }, `${name} unlocked`);
      });
    });
}
