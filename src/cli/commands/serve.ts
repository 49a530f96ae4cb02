import type { Command } from 'commander';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { bootstrapAdmin, createCore } from '../../core/index.js';
import { buildApp, REDACTED_HEADERS } from '../../http/app.js';
import { Metrics } from '../../http/metrics.js';
import { coreOptions, openStore } from '../../runtime.js';
import { configFrom, withSettings, type Io } from '../io.js';

/** pino with secrets redacted wherever they could appear (SPEC §10). */
export function createLogger(config: Config): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: [
        ...REDACTED_HEADERS.map((h) => `req.headers["${h}"]`),
        '*.password', '*.access_token', '*.refresh_token', '*.token', '*.passwordHash', '*.privateJwk',
      ],
      censor: '[redacted]',
    },
  });
}

/** Starts the server; resolves with a stop function once it listens. */
export async function startServer(config: Config, log: Logger): Promise<{ url: string; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const store = await openStore(config);
  await store.migrate();
  const metrics = new Metrics();
  const core = await createCore(store, coreOptions(config), {
    onEvent: metrics.onSessionEvent,
    onAuditError: (err) => log.warn({ err }, 'audit write failed'),
  });

  const password = await bootstrapAdmin(core);
  if (password !== null) {
    const dir = resolve(config.dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'initial-admin-password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    log.info({ file }, 'created account "admin"; its password is in this file (mode 0600): change it with `rcauth user passwd admin --password-stdin`');
  }

  const https = config.tlsCert ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const { extendApp } = await import('../../http/extend.js');
  const app = await buildApp({ core, config, metrics, logger: log, https, extend: extendApp });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address() as { port: number };
  const url = `${https ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;

  let metricsServer: Awaited<ReturnType<typeof buildApp>> | null = null;
  if (config.metricsPort) {
    const Fastify = (await import('fastify')).default;
    metricsServer = Fastify();
    const { metricsRoute } = await import('../../http/routes/metrics.js');
    metricsRoute(metricsServer, metrics);
    await metricsServer.listen({ host: config.host, port: config.metricsPort });
  }

  // Every node rereads the keys, so a rotation anywhere is served everywhere within seconds.
  const keyTimer = setInterval(() => core.keys.reload().catch((err) => log.warn({ err }, 'key reload failed')), config.keyRefresh * 1000);
  const purge = async () => {
    try {
      let removed = 0;
      for (let i = 0; i < 20; i++) {
        const n = await store.purge(Date.now(), { batch: 500, keepEndedMs: 0, auditRetentionMs: config.auditRetention * 1000, throttleWindowMs: config.throttleWindow * 1000 });
        removed += n;
        if (n === 0) break;
      }
      if (removed > 0) log.debug({ removed }, 'purged ended sessions');
    } catch (err) {
      log.warn({ err }, 'purge failed');
    }
  };
  const purgeTimer = setInterval(purge, config.purgeInterval * 1000);
  keyTimer.unref();
  purgeTimer.unref();

  log.info({ url, ms: Math.round(performance.now() - t0), store: store.dialect }, 'listening');
  return {
    url,
    stop: async () => {
      clearInterval(keyTimer);
      clearInterval(purgeTimer);
      await app.close();
      await metricsServer?.close();
      await store.close();
    },
  };
}

/** `rcauth serve`. */
export function serveCommand(program: Command, io: Io): void {
  withSettings(program.command('serve').description('run the token server'), true)
    .action(async (_opts: unknown, cmd: Command) => {
      const config = configFrom(cmd, io);
      const log = createLogger(config);
      const server = await startServer(config, log);
      await new Promise<void>((done) => {
        const shutdown = (signal: string) => {
          log.info({ signal }, 'draining');
          server.stop().then(done, (err) => {
            log.error({ err }, 'shutdown failed');
            done();
          });
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
      });
      log.info('stopped');
    });
}
