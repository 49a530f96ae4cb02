import { AggregatorRegistry, Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from '../core/sessions.js';

/**
 * Prometheus metrics (SPEC §10), one registry per app so tests can run several.
 *
 * | name | labels |
 * |---|---|
 * | rcauth_logins_total | outcome: ok, failed, throttled |
 * | rcauth_refreshes_total | outcome: ok, failed, reuse, grace |
 * | rcauth_refresh_reuse_detected_total | — |
 * | rcauth_throttled_total | reason: login (brute-force throttle), rate (per-IP request limit) |
 * | rcauth_store_errors_total | — |
 * | rcauth_http_request_duration_seconds | route, method, status |
 *
 * plus prom-client's process and Node.js metrics with the `rcauth_` prefix.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly logins = new Counter({ name: 'rcauth_logins_total', help: 'Password logins by outcome.', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly refreshes = new Counter({ name: 'rcauth_refreshes_total', help: 'Refresh grants by outcome.', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly reuse = new Counter({ name: 'rcauth_refresh_reuse_detected_total', help: 'Refresh token reuse detections (family ended).', registers: [this.registry] });
  readonly throttled = new Counter({ name: 'rcauth_throttled_total', help: 'Requests refused with 429.', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly storeErrors = new Counter({ name: 'rcauth_store_errors_total', help: 'Requests that failed because the store was unavailable.', registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'rcauth_http_request_duration_seconds', help: 'HTTP request latency by route and status.',
    labelNames: ['route', 'method', 'status'] as const, registers: [this.registry],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });

  /** What GET /metrics answers; a cluster worker replaces it with the cluster-wide view. */
  private renderer: () => Promise<string> = () => this.registry.metrics();

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'rcauth_' });
    // Every outcome starts at 0, so a rate() over a fresh process is defined and
    // dashboards see every series before the first event of its kind.
    for (const outcome of ['ok', 'failed', 'throttled']) this.logins.inc({ outcome }, 0);
    for (const outcome of ['ok', 'failed', 'reuse', 'grace']) this.refreshes.inc({ outcome }, 0);
    for (const reason of ['login', 'rate']) this.throttled.inc({ reason }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text served at /metrics. */
  render(): Promise<string> {
    return this.renderer();
  }

  /** Serve another view (the cluster aggregate) instead of this process's registry. */
  renderWith(fn: () => Promise<string>): void {
    this.renderer = fn;
  }

  onSessionEvent = (e: SessionEvent): void => {
    if (e.kind === 'login') {
      this.logins.inc({ outcome: e.outcome });
      if (e.outcome === 'throttled') this.throttled.inc({ reason: 'login' });
    } else {
      this.refreshes.inc({ outcome: e.outcome });
      if (e.outcome === 'reuse') this.reuse.inc();
    }
  };
}

/*
 * Cluster mode (--workers N): every worker counts in its own registry, and a
 * scrape must see the sum, whichever worker (or the primary's metrics port)
 * answers it. The primary asks every worker for its metrics as JSON over the
 * cluster IPC channel and merges them with prom-client's aggregator (counters
 * and histograms are summed). Messages carry `rcauth` so they never collide
 * with other IPC users such as prom-client's own cluster support.
 */

const TIMEOUT_MS = 5000;

/** `registry.getMetricsAsJSON()` after a trip through IPC (plain data). */
type MetricsJson = object[];

/** Primary → worker: send your registry. Worker → primary: the aggregate, please. */
export type MetricsMessage =
  | { rcauth: 'metrics:collect'; id: number }
  | { rcauth: 'metrics:collected'; id: number; metrics: MetricsJson }
  | { rcauth: 'metrics:aggregate'; id: number }
  | { rcauth: 'metrics:aggregated'; id: number; text: string; error?: string };

/** The IPC side of one worker as the primary sees it (node:cluster Worker fits). */
export interface WorkerChannel {
  send(message: MetricsMessage): boolean;
  isConnected(): boolean;
}

/** The IPC side of the current process as a worker (node:process fits). */
export interface ProcessChannel {
  send?: (message: MetricsMessage) => boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

function isMetricsMessage(m: unknown): m is MetricsMessage {
  return typeof m === 'object' && m !== null && typeof (m as { rcauth?: unknown }).rcauth === 'string' &&
    (m as { rcauth: string }).rcauth.startsWith('metrics:');
}

/**
 * Runs in the cluster primary: gathers every worker's registry and sums them.
 * `onWorkerMessage` must see every message a worker sends.
 */
export class ClusterMetrics {
  private next = 0;
  private readonly pending = new Map<number, { parts: MetricsJson[]; waiting: number; done: (err: Error | null, text?: string) => void }>();

  constructor(private readonly workers: () => WorkerChannel[]) {}

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  /** The sum over all live workers, in the Prometheus text format. */
  render(): Promise<string> {
    return this.collect();
  }

  private collect(): Promise<string> {
    const id = this.next++;
    const live = this.workers().filter((w) => w.isConnected());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error('a worker did not send its metrics in time')), TIMEOUT_MS);
      const finish = (err: Error | null, text?: string) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (err) reject(err);
        else resolve(text ?? '');
      };
      const entry = { parts: [] as MetricsJson[], waiting: 0, done: finish };
      this.pending.set(id, entry);
      for (const w of live) if (w.send({ rcauth: 'metrics:collect', id })) entry.waiting++;
      if (entry.waiting === 0) finish(null, '');
    });
  }

  /** Feed every worker message here; answers aggregate requests on `from`. */
  onWorkerMessage(from: WorkerChannel, message: unknown): void {
    if (!isMetricsMessage(message)) return;
    if (message.rcauth === 'metrics:collected') {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      entry.parts.push(message.metrics);
      if (--entry.waiting === 0) {
        AggregatorRegistry.aggregate(entry.parts).metrics().then((text) => entry.done(null, text), (err: Error) => entry.done(err));
      }
    } else if (message.rcauth === 'metrics:aggregate') {
      this.collect().then(
        (text) => from.isConnected() && from.send({ rcauth: 'metrics:aggregated', id: message.id, text }),
        (err: Error) => from.isConnected() && from.send({ rcauth: 'metrics:aggregated', id: message.id, text: '', error: err.message }),
      );
    }
  }
}

/**
 * Runs in a cluster worker: answers the primary's collect requests from this
 * worker's registry, and makes `metrics.render()` return the cluster-wide sum.
 */
export function joinClusterMetrics(metrics: Metrics, channel: ProcessChannel): void {
  let next = 0;
  const waiting = new Map<number, (m: Extract<MetricsMessage, { rcauth: 'metrics:aggregated' }>) => void>();
  channel.on('message', (message) => {
    if (!isMetricsMessage(message)) return;
    if (message.rcauth === 'metrics:collect') {
      metrics.registry.getMetricsAsJSON().then((json) => channel.send?.({ rcauth: 'metrics:collected', id: message.id, metrics: json }));
    } else if (message.rcauth === 'metrics:aggregated') {
      waiting.get(message.id)?.(message);
    }
  });
  metrics.renderWith(() => new Promise((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('the cluster primary did not answer with the metrics in time'));
    }, TIMEOUT_MS + 1000);
    waiting.set(id, (m) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (m.error) reject(new Error(m.error));
      else resolve(m.text);
    });
    if (!channel.send?.({ rcauth: 'metrics:aggregate', id })) {
      clearTimeout(timer);
      waiting.delete(id);
      reject(new Error('no IPC channel to the cluster primary'));
    }
  }));
}
