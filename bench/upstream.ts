/**
 * The API behind the gateway in the benchmark. Prints {"port":N} once it listens.
 *
 *   {}              the smallest useful node:http server (a short JSON answer), so
 *                   the gateway/direct ratio isolates the gateway's own cost;
 *   {"work":true}   each request builds, sorts and serialises a page of 50
 *                   records and tags it with an ETag, CPU work in the range of a
 *                   real API's, so the ratio shows what the gateway costs an API
 *                   that does something.
 *
 * GET /__stats answers {"requests":N,"cpuUs":N}: requests served so far (itself
 * excluded) and the process's CPU time, for the bench's per-request figure.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const { work = false } = JSON.parse(process.argv[2] ?? '{}') as { work?: boolean };

const small = Buffer.from('{"ok":true,"items":[1,2,3]}');
const NAMES = ['Anchor', 'Beacon', 'Compass', 'Delta', 'Ember', 'Fjord', 'Granite', 'Harbor', 'Iris', 'Juniper', 'Kestrel', 'Lumen'];
const STATUSES = ['pending', 'paid', 'shipped', 'refunded'];
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const PAGE = 50;
let seq = 0;

/**
 * What a list endpoint does once its rows are in hand: shape each into the API
 * object (ids, names, ISO dates, amounts), order them and serialise the page.
 * `seq` varies every answer, so nothing here can be cached.
 */
function page(n: number): Buffer {
  const t0 = Date.UTC(2026, 0, 1) + (seq++ % 10_000) * 60_000;
  const items = [];
  for (let i = 0; i < PAGE; i++) {
    const id = n * PAGE + i;
    const cents = (id * 7919 + seq * 13) % 1_000_000;
    items.push({
      id,
      ref: `ord_${((id * 2654435761) >>> 0).toString(36)}`,
      name: `${NAMES[id % NAMES.length]} order ${id}`,
      customer: { id: (id * 31) % 9973, email: `customer${(id * 31) % 9973}@example.com` },
      status: STATUSES[(id + seq) % STATUSES.length],
      amount: (cents / 100).toFixed(2),
      currency: CURRENCIES[id % CURRENCIES.length],
      createdAt: new Date(t0 - id * 3_600_000).toISOString(),
      updatedAt: new Date(t0 - id * 60_000).toISOString(),
    });
  }
  items.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.id - b.id));
  return Buffer.from(JSON.stringify({ page: n, pageSize: PAGE, total: 10_000, items, next: `/bench/items?page=${n + 1}` }));
}

let served = 0;
const server = createServer((req, res) => {
  req.resume();
  if (req.url === '/__stats') {
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests: served, cpuUs: user + system }));
    return;
  }
  served++;
  const body = work ? page(Number(/[?&]page=(\d+)/.exec(req.url ?? '')?.[1] ?? 1)) : small;
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
  // A weak ETag over the body, as Express sends by default: part of a typical answer's cost.
  if (work) headers.etag = `W/"${body.length.toString(16)}-${createHash('sha1').update(body).digest('base64').slice(0, 27)}"`;
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
