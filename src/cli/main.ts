import { Command } from 'commander';
import { auditCommand } from './commands/audit.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { userCommand } from './commands/user.js';
import { EXIT_OK, reportError, type Io } from './io.js';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    if (process.stdin.isTTY) {
      reject(new Error('--password-stdin: standard input is a terminal; pipe the password in'));
      return;
    }
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: readStdin,
  env: process.env,
};

/** Runs `rcauth <argv>`; resolves with the exit code (0 ok, 1 failed, 2 usage/configuration). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = new Command('rcauth')
    .description('recoveryconnect-auth: the token service')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);
  serveCommand(program, io);
  userCommand(program, io);
  keysCommand(program, io);
  migrateCommand(program, io);
  auditCommand(program, io);
  program.commands.forEach(function exitOverride(c: Command): void {
    c.exitOverride();
    c.configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    c.commands.forEach(exitOverride);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io);
  }
}
