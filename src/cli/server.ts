/** One server process: prepare the store, build the app, listen, purge, reload keys, stop. */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { bootstrapAdmin, createCore, type Core } from '../core/index.js';
import type { Store } from '../core/store.js';
import { buildApp } from '../http/app.js';
import { Metrics } from '../http/metrics.js';
import { startMetricsServer } from '../http/routes/metrics.js';
import { coreOptions, openStore } from '../runtime.js';

/** A running server: its URL and an orderly stop. */
export interface RunningServer {
  url: string;
  stop: () => Promise<void>;
  /**
   * Resolves with an exit code if the server ends by itself: a cluster whose
   * workers keep crashing (1), or whose workers were all stopped one by one (0).
   */
  ended?: Promise<number>;
}

/**
 * Opens and migrates the store, loads (or makes) the signing keys, and on an
 * empty store creates `admin` with its password in a 0600 file. Done once per
 * node: by the single process, or by the cluster primary before it forks.
 */
export async function prepareStore(config: Config, log: Logger, metrics?: Metrics): Promise<{ store: Store; core: Core }> {
  const store = await openStore(config);
  try {
    await store.migrate();
    const core = await createCore(store, coreOptions(config), {
      onEvent: metrics?.onSessionEvent,
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
    return { store, core };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

/** Removes ended sessions, old audit events and stale throttle counters, in batches. */
export function startPurge(store: Store, config: Config, log: Logger): NodeJS.Timeout {
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
  const timer = setInterval(purge, config.purgeInterval * 1000);
  timer.unref();
  return timer;
}

/**
 * How long a drain may take before the remaining connections are cut: the
 * longest a request may legitimately run (receiving it, or waiting on the
 * upstream in gateway mode), plus a little.
 */
export function drainDeadlineMs(config: Config): number {
  return (Math.max(config.requestTimeout, config.upstream ? config.upstreamTimeout : 0) + 2) * 1000;
}

/**
 * Builds the app on a ready core and listens. Shared by the single process and
 * the cluster workers; the caller decides who prepares the store.
 */
export async function listenApp(config: Config, log: Logger, core: Core, metrics: Metrics): Promise<{ url: string; close: () => Promise<void> }> {
  const https = config.tlsCert ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const { extendApp } = await import('../http/extend.js');
  const app = await buildApp({ core, config, metrics, logger: log, https, extend: extendApp });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address() as { port: number };
  const url = `${https ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  return {
    url,
    close: async () => {
      // Fastify's close stops accepting, answers requests still arriving on
      // kept-alive connections with 503 + Connection: close, closes idle
      // connections, and resolves once every in-flight request has completed.
      // A request that outlives the deadline is cut so the stop always ends.
      const deadline = setTimeout(() => {
        log.warn('drain deadline reached; closing the remaining connections');
        app.server.closeAllConnections();
      }, drainDeadlineMs(config));
      deadline.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(deadline);
      }
    },
  };
}

/** Every node rereads the keys, so a rotation anywhere is served everywhere within seconds (SPEC §5). */
export function startKeyReload(core: Core, config: Config, log: Logger): NodeJS.Timeout {
  const timer = setInterval(() => core.keys.reload().catch((err) => log.warn({ err }, 'key reload failed')), config.keyRefresh * 1000);
  timer.unref();
  return timer;
}

/**
 * Starts the server in this process (`--workers 1`); resolves with its URL and
 * a stop function once it listens.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const t0 = performance.now();
  const metrics = new Metrics();
  const { store, core } = await prepareStore(config, log, metrics);
  let app: Awaited<ReturnType<typeof listenApp>>;
  let metricsServer: Server | null = null;
  try {
    app = await listenApp(config, log, core, metrics);
    if (config.metricsPort) {
      metricsServer = await startMetricsServer({ host: config.host, port: config.metricsPort, source: metrics, onError: (err) => log.warn({ err }, 'metrics failed') });
    }
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const timers = [startKeyReload(core, config, log), startPurge(store, config, log)];

  log.info({ url: app.url, ms: Math.round(performance.now() - t0), store: store.dialect, workers: 1 }, 'listening');
  return {
    url: app.url,
    stop: async () => {
      timers.forEach(clearInterval);
      await app.close();
      await closeServer(metricsServer);
      await store.close();
    },
  };
}

export function closeServer(server: Server | null): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((done) => {
    server.close(() => done());
    server.closeIdleConnections();
  });
}
