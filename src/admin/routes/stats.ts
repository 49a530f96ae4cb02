import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../http/context.js';
import { adminRoute } from '../schemas.js';
import { countLogins, describeThrottleKey, emptyBuckets, HOUR, readLogins } from '../stats.js';

const HOURS = 24;
/** Login events read per dashboard view at most; see readLogins. */
const MAX_EVENTS = 20_000;

const count = { type: 'integer', minimum: 0 } as const;
const time = { type: 'string', format: 'date-time' } as const;

/** GET /admin/v1/stats — the dashboard: logins per hour over 24 h, and who is throttled now. */
export function statsRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store, throttle, now } = deps.core;

  app.get('/stats', {
    schema: adminRoute('Dashboard figures', {
      description: `Password logins per hour over the last ${HOURS} hours (from the audit log), and the usernames throttled now.`,
      response: {
        200: {
          type: 'object', required: ['since', 'until', 'bucketSeconds', 'logins', 'totals', 'truncated', 'throttled'],
          properties: {
            since: time, until: time,
            bucketSeconds: { type: 'integer' },
            logins: {
              type: 'array',
              items: { type: 'object', required: ['start', 'ok', 'failed', 'throttled'], properties: { start: time, ok: count, failed: count, throttled: count } },
            },
            totals: { type: 'object', required: ['ok', 'failed', 'throttled'], properties: { ok: count, failed: count, throttled: count } },
            truncated: { type: 'boolean', description: `True when the window held more than ${MAX_EVENTS} logins: older buckets then count only part of them.` },
            throttled: {
              type: 'array',
              items: {
                type: 'object', required: ['username', 'clientIp', 'failures', 'until'],
                properties: {
                  username: { type: 'string', description: 'Lower-cased, as counted.' },
                  clientIp: { type: ['string', 'null'], description: 'Null: blocked from every address (the per-username cap).' },
                  failures: count, until: time,
                },
              },
            },
          },
        },
      },
    }),
  }, async () => {
    const at = now();
    const buckets = emptyBuckets(at, HOURS);
    const since = buckets[0]!.start;
    const { events, truncated } = await readLogins(store, since, at + 1, MAX_EVENTS);
    countLogins(buckets, events);
    const totals = buckets.reduce((t, b) => ({ ok: t.ok + b.ok, failed: t.failed + b.failed, throttled: t.throttled + b.throttled }), { ok: 0, failed: 0, throttled: 0 });
    const blocked = (await throttle.blocked(at)).map((b) => ({ ...describeThrottleKey(b.key), failures: b.count, until: new Date(b.until).toISOString() }));
    return {
      since: new Date(since).toISOString(), until: new Date(at).toISOString(), bucketSeconds: HOUR / 1000,
      logins: buckets.map((b) => ({ ...b, start: new Date(b.start).toISOString() })),
      totals, truncated, throttled: blocked,
    };
  });
}
