/** `--workers N`: node:cluster primary and workers sharing one port. */
import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createCore } from '../core/index.js';
import { ClusterMetrics, joinClusterMetrics, Metrics } from '../http/metrics.js';
import { startMetricsServer } from '../http/routes/metrics.js';
import { coreOptions, openStore } from '../runtime.js';
import { closeServer, listenApp, prepareStore, startKeyReload, startPurge, drainDeadlineMs, type RunningServer } from './server.js';

/** Set in the environment of the processes the cluster primary forks. */
export const WORKER_MARK = 'RCAUTH_CLUSTER_WORKER';

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
export async function runWorker(config: Config, baseLog: Logger): Promise<void> {
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
