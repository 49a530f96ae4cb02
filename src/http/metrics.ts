import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from '../core/sessions.js';

/** Prometheus metrics (SPEC §10), one registry per app so tests can run several. */
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

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'rcauth_' });
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
