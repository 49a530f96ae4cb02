import type { Command } from 'commander';
import cluster, { type Worker } from 'node:cluster';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../../config/schema.js';
import { bootstrapAdmin, createCore, type Core } from '../../core/index.js';
import type { Store } from '../../core/store.js';
import { buildApp, REDACTED_HEADERS } from '../../http/app.js';
import { ClusterMetrics, joinClusterMetrics, Metrics } from '../../http/metrics.js';
import { startMetricsServer } from '../../http/routes/metrics.js';
import { coreOptions, openStore } from '../../runtime.js';
import { configFrom, withSettings, type Io } from '../io.js';

/** Set in the environment of the processes the cluster primary forks. */
const WORKER_MARK = 'RCAUTH_CLUSTER_WORKER';

/** Top-level keys that would hold a secret if some code ever logged one. */
const SECRET_KEYS = ['password', 'access_token', 'refresh_token', 'token', 'passwordHash', 'privateJwk', 'client_secret', 'authorization'];

/**
 * What a request line may say about the request: method, route pattern and
 * client IP — never the URL (a query string can carry `?access_token=`),
 * headers or body. Takes app.ts's summary or a raw request alike, so a stray
 * `log.info({ req: request })` stays safe too.
 */
function requestSummary(req: { method?: string; route?: string; ip?: string; routeOptions?: { url?: string }; socket?: { remoteAddress?: string } }) {
  return { method: req.method, route: req.route ?? req.routeOptions?.url, ip: req.ip ?? req.socket?.remoteAddress };
}

function responseSummary(res: { statusCode?: number }) {
  return { statusCode: res.statusCode };
}

/**
 * pino with secrets kept out of the log (SPEC §10). The serializers decide
 * what a `req`/`res` may show (they also replace Fastify's, which would log
 * the URL); redaction then blanks secret-named keys and credential headers as
 * defence in depth. Only fixed paths: pino's wildcard paths cost about 4 µs
 * per line — 5 % of the server's CPU under gateway load — for keys our lines
 * never carry at that depth.
 */
export function createLogger(config: Config, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    serializers: { req: requestSummary, res: responseSummary, err: pino.stdSerializers.err },
    redact: {
      paths: [
        ...REDACTED_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`]),
        ...SECRET_KEYS,
        ...SECRET_KEYS.flatMap((k) => [`body.${k}`, `err.${k}`, `params.${k}`]),
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

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
async function prepareStore(config: Config, log: Logger, metrics?: Metrics): Promise<{ store: Store; core: Core }> {
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
function startPurge(store: Store, config: Config, log: Logger): NodeJS.Timeout {
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
function drainDeadlineMs(config: Config): number {
  return (Math.max(config.requestTimeout, config.upstream ? config.upstreamTimeout : 0) + 2) * 1000;
}

/**
 * Builds the app on a ready core and listens. Shared by the single process and
 * the cluster workers; the caller decides who prepares the store.
 */
async function listenApp(config: Config, log: Logger, core: Core, metrics: Metrics): Promise<{ url: string; close: () => Promise<void> }> {
  const https = config.tlsCert ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const { extendApp } = await import('../../http/extend.js');
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
function startKeyReload(core: Core, config: Config, log: Logger): NodeJS.Timeout {
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

function closeServer(server: Server | null): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((done) => {
    server.close(() => done());
    server.closeIdleConnections();
  });
}

/* ------------------------------------------------------------------ cluster */

/** Messages between the primary and its workers (besides the metrics ones). */
type ControlMessage =
  | { rcauth: 'ready'; url: string }
  | { rcauth: 'shutdown' };

function isControl(m: unknown): m is ControlMessage {
  return typeof m === 'object' && m !== null && ((m as { rcauth?: unknown }).rcauth === 'ready' || (m as { rcauth?: unknown }).rcauth === 'shutdown');
}

/** A worker that crashes more often than this within a minute stops the cluster instead of looping. */
const MAX_RESTARTS_PER_MINUTE = 5;

/**
 * `--workers N`: the primary prepares the store once (migration, keys, the
 * admin account), then forks N workers that open the store and listen on the
 * same port — node:cluster hands the primary's one listening socket to all of
 * them, so `--port 0` gives one shared port, with no window in which another
 * process could take a port picked in advance. The primary prints the single
 * `listening` line once every worker listens, restarts a worker that crashes,
 * runs the background purge, and serves the summed metrics on --metrics-port.
 */
export async function startCluster(config: Config, log: Logger): Promise<RunningServer> {
  const t0 = performance.now();
  const { store } = await prepareStore(config, log);
  const clusterMetrics = new ClusterMetrics(() => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined));
  let stopping = false;
  let crashed = false;
  let stopRequested = false;
  const restarts: number[] = [];
  let url = '';

  // Round-robin in the primary: the kernel's own balancing (SCHED_NONE) piles
  // most connections on one busy worker under keep-alive load.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ silent: false });

  const fork = (): Worker => {
    const worker = cluster.fork({ [WORKER_MARK]: '1' });
    worker.on('message', (m: unknown) => clusterMetrics.onWorkerMessage(worker, m));
    return worker;
  };

  /** Restarts crashed workers; resolves when every worker has exited. */
  const superviseWorkers = () => new Promise<void>((allGone) => {
    cluster.on('exit', (worker, code, signal) => {
      const left = Object.keys(cluster.workers ?? {}).length;
      // Exit 0 means the worker was told to stop (a signal sent to the whole
      // process group, or our shutdown message): not a crash to repair.
      if (stopping || code === 0) {
        if (left === 0) allGone();
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        log.fatal({ worker: worker.id, code, signal }, 'workers keep crashing; stopping the cluster');
        crashed = true;
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.send({ rcauth: 'shutdown' } satisfies ControlMessage);
        if (left === 0) allGone();
        return;
      }
      log.error({ worker: worker.id, code, signal }, 'worker died; starting another');
      fork();
    });
  });

  let gone: Promise<void> = Promise.resolve();
  let metricsServer: Server | null = null;
  try {
    const urls = await new Promise<string[]>((resolveAll, rejectAll) => {
      const ready: string[] = [];
      const onExit = (worker: Worker, code: number | null, signal: string | null) => {
        cluster.off('exit', onExit);
        rejectAll(new Error(`worker ${worker.id} exited with ${signal ?? code} before it listened`));
      };
      cluster.on('exit', onExit);
      for (let i = 0; i < config.workers; i++) {
        fork().on('message', function onReady(this: Worker, m: unknown) {
          if (!isControl(m) || m.rcauth !== 'ready') return;
          this.off('message', onReady);
          ready.push(m.url);
          if (ready.length === config.workers) {
            cluster.off('exit', onExit);
            resolveAll(ready);
          }
        });
      }
    });
    url = urls[0]!;
    if (urls.some((u) => u !== url)) throw new Error(`workers listen on different addresses: ${[...new Set(urls)].join(', ')}`);
    gone = superviseWorkers();
    if (config.metricsPort) {
      metricsServer = await startMetricsServer({ host: config.host, port: config.metricsPort, source: clusterMetrics, onError: (err) => log.warn({ err }, 'metrics failed') });
    }
  } catch (err) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
    await store.close().catch(() => {});
    throw err;
  }

  const purgeTimer = startPurge(store, config, log);
  log.info({ url, ms: Math.round(performance.now() - t0), store: store.dialect, workers: config.workers }, 'listening');

  let closed: Promise<void> | null = null;
  const closeRest = () => {
    closed ??= (async () => {
      clearInterval(purgeTimer);
      await closeServer(metricsServer);
      await store.close();
    })();
    return closed;
  };
  return {
    url,
    ended: gone.then(async () => {
      // stop() waits on `gone` itself; only an unrequested end gets here first.
      if (stopRequested) return new Promise<number>(() => {});
      await closeRest();
      return crashed ? 1 : 0;
    }),
    stop: async () => {
      stopping = true;
      stopRequested = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      for (const w of workers) if (w.isConnected()) w.send({ rcauth: 'shutdown' } satisfies ControlMessage);
      // Workers drain within their own deadline; this one only guards against a hung worker.
      const kill = setTimeout(() => {
        log.warn('workers did not stop in time; killing them');
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      }, drainDeadlineMs(config) + 5000);
      kill.unref();
      if (workers.length > 0) await gone;
      clearTimeout(kill);
      await closeRest();
    },
  };
}

/**
 * One cluster worker: opens the (already prepared) store, builds the app and
 * listens on the shared port, then tells the primary. Stops on the primary's
 * shutdown message, on its own SIGTERM/SIGINT, or when the primary is gone.
 */
async function runWorker(config: Config, baseLog: Logger): Promise<void> {
  const log = baseLog.child({ worker: cluster.worker?.id });
  const metrics = new Metrics();
  joinClusterMetrics(metrics, process);
  const store = await openStore(config);
  const core = await createCore(store, coreOptions(config), {
    onEvent: metrics.onSessionEvent,
    onAuditError: (err) => log.warn({ err }, 'audit write failed'),
  });
  // The primary serves --metrics-port; here /metrics is only on the main port when no metrics port is set.
  const app = await listenApp(config, log, core, metrics);
  const keyTimer = startKeyReload(core, config, log);
  log.debug({ url: app.url }, 'worker listening');
  process.send?.({ rcauth: 'ready', url: app.url } satisfies ControlMessage);

  await new Promise<void>((done) => {
    let once = false;
    const stop = (why: string) => {
      if (once) return;
      once = true;
      log.debug({ why }, 'worker draining');
      clearInterval(keyTimer);
      app.close()
        .then(() => store.close())
        .catch((err) => log.error({ err }, 'worker shutdown failed'))
        .finally(done);
    };
    process.on('message', (m: unknown) => {
      if (isControl(m) && m.rcauth === 'shutdown') stop('shutdown');
    });
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('disconnect', () => stop('primary gone'));
  });
  // The IPC channel would keep the process alive; everything is closed now.
  process.exit(0);
}

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
