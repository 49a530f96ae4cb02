/**
 * The API behind the gateway in the benchmark: the smallest useful node:http
 * server (a short JSON answer), so the gateway/direct ratio measures the
 * gateway's own cost. Prints {"port":N} once it listens.
 */
import { createServer } from 'node:http';

const body = Buffer.from('{"ok":true,"items":[1,2,3]}');
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
