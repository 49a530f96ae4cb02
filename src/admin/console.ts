import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../core/errors.js';
import type { AppDeps } from '../http/context.js';

/**
 * The console's files ship as they are written, under src/admin/ui/ in the
 * package. This module compiles to dist/admin/console.js, and both it and its
 * source sit two levels below the package root, so one relative URL finds the
 * files from tsx (src/) and from the build (dist/).
 */
export const UI_DIR = new URL('../../src/admin/ui/', import.meta.url);

/** Everything the console needs comes from this origin; nothing inline (SPEC §11, issue 7). */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};

/** Asset names: lower-case words in at most two folders; no dots but the extension, so no "..". */
const ASSET = /^(?:[a-z0-9-]+\/){0,2}[a-z0-9-]+\.(js|css|svg|png|ico)$/;

interface Cached { body: Buffer; type: string; etag: string }

/** The auth path the console signs in through: the documented v140 when served, else the first version. */
export function consoleAuthPath(versions: readonly string[]): string {
  return `/api/${versions.includes('v140') ? 'v140' : versions[0]}/auth`;
}

function cached(body: Buffer, type: string): Cached {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Files are read on first use and kept (a few tens of KiB), so serving the
 * console costs the server nothing at start-up and little after.
 */
function fileCache(load: (name: string) => Promise<Cached>) {
  const files = new Map<string, Promise<Cached>>();
  return (name: string): Promise<Cached> => {
    let file = files.get(name);
    if (!file) {
      file = load(name);
      // A failed read is not remembered: the next request tries again.
      file.catch(() => files.delete(name));
      files.set(name, file);
    }
    return file;
  };
}

function send(request: FastifyRequest, reply: FastifyReply, file: Cached): FastifyReply {
  // The app's default CSP (default-src 'none') would block the console's own script and style.
  reply.header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-cache').header('etag', file.etag);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}

/** GET /admin (the console page) and GET /admin/assets/* (its scripts and styles). */
export function consoleRoutes(app: FastifyInstance, deps: AppDeps): void {
  const authPath = consoleAuthPath(deps.config.versions);
  const page = fileCache(async () => {
    const html = await readFile(new URL('index.html', UI_DIR), 'utf8');
    return cached(Buffer.from(html.replaceAll('{{AUTH_PATH}}', authPath)), 'text/html; charset=utf-8');
  });
  const asset = fileCache(async (name) => {
    try {
      return cached(await readFile(new URL(`assets/${name}`, UI_DIR)), TYPES[name.slice(name.lastIndexOf('.') + 1)]!);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFound(`No console asset ${name}.`);
      throw err;
    }
  });

  const hide = { schema: { hide: true } };
  app.get('/admin', hide, async (request, reply) => send(request, reply, await page('')));
  app.get('/admin/', hide, async (_request, reply) => reply.redirect('/admin', 301));
  app.get<{ Params: { '*': string } }>('/admin/assets/*', hide, async (request, reply) => {
    const name = request.params['*'];
    if (!ASSET.test(name)) throw new NotFound(`No console asset ${name.slice(0, 100)}.`);
    return send(request, reply, await asset(name));
  });
}
