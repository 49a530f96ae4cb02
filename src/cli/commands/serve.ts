import type { Command } from 'commander';
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { runWorker, startCluster, WORKER_MARK } from '../cluster.js';
import { configFrom, withSettings, type Io } from '../io.js';
import { createLogger } from '../logger.js';
import { startServer, type RunningServer } from '../server.js';

/** Waits for SIGTERM/SIGINT, then stops `server`; a second signal exits at once. */
async function untilSignal(server: RunningServer, log: Logger): Promise<void> {
  await new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'draining');
      const force = (again: string) => {
        log.warn({ signal: again }, 'second signal: exiting without waiting for the drain');
        process.exit(1);
      };
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      server.stop().then(done, (err) => {
        log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        done();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    server.ended?.then((code) => {
      log.warn({ code }, 'every worker has stopped');
      process.exitCode = code;
      done();
    });
  });
  log.info('stopped');
}

/** `rcauth serve`. */
export function serveCommand(program: Command, io: Io): void {
  withSettings(program.command('serve').description('run the token server'), true)
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFrom(cmd, io);
      const log = createLogger(config);
      if (cluster.isWorker && io.env[WORKER_MARK] === '1') {
        await runWorker(config, log);
        return;
      }
      const server = config.workers > 1 ? await startCluster(config, log) : await startServer(config, log);
      await untilSignal(server, log);
    });
}
