import type { AuditEvent, Store } from '../core/store.js';

export const HOUR = 3_600_000;

export interface LoginBucket {
  /** Start of the bucket, epoch ms. */
  start: number;
  ok: number;
  failed: number;
  throttled: number;
}

/**
 * `hours` buckets of one hour each, the last one holding `now`, aligned to whole
 * hours so that two dashboards opened a minute apart draw the same bars.
 */
export function emptyBuckets(now: number, hours: number): LoginBucket[] {
  const last = Math.floor(now / HOUR) * HOUR;
  return Array.from({ length: hours }, (_, i) => ({ start: last - (hours - 1 - i) * HOUR, ok: 0, failed: 0, throttled: 0 }));
}

/** Counts login events into the buckets (events outside them are ignored). */
export function countLogins(buckets: LoginBucket[], events: Iterable<Pick<AuditEvent, 'at' | 'outcome'>>): LoginBucket[] {
  const first = buckets[0]?.start ?? 0;
  for (const e of events) {
    const bucket = buckets[Math.floor((e.at - first) / HOUR)];
    if (!bucket) continue;
    if (e.outcome === 'ok') bucket.ok++;
    else if (e.outcome === 'failed') bucket.failed++;
    else if (e.outcome === 'throttled') bucket.throttled++;
  }
  return buckets;
}

/** A row of the throttle table, read back into what an operator understands. */
export function describeThrottleKey(key: string): { username: string; clientIp: string | null } {
  // Keys are `u:<username>` (all IPs) or `ipu:<ip>|<username>`; an IP never holds "|", a username may.
  if (key.startsWith('u:')) return { username: key.slice(2), clientIp: null };
  const body = key.startsWith('ipu:') ? key.slice(4) : key;
  const bar = body.indexOf('|');
  return bar < 0 ? { username: body, clientIp: null } : { username: body.slice(bar + 1), clientIp: body.slice(0, bar) };
}

/**
 * Login events of the window, read page by page from the audit log (the Store has
 * no aggregate query). Under a flood the read stops at `cap` events — the newest
 * ones, as the log is read newest first — and says so, so the dashboard stays
 * cheap exactly when an attack makes the log grow fastest.
 */
export async function readLogins(store: Store, since: number, until: number, cap: number, page = 1000): Promise<{ events: AuditEvent[]; truncated: boolean }> {
  const events: AuditEvent[] = [];
  for (let want = Math.min(page, cap); want > 0; want = Math.min(page, cap - events.length)) {
    const rows = await store.listAudit({ type: 'login', since, until, limit: want, offset: events.length });
    events.push(...rows);
    if (rows.length < want) return { events, truncated: false };
  }
  const more = await store.listAudit({ type: 'login', since, until, limit: 1, offset: events.length });
  return { events, truncated: more.length > 0 };
}
