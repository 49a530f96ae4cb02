import type { Config } from '../config/schema.js';

/**
 * Paths that belong to the server itself. Its routes win over the gateway's
 * catch-all anyway (the router prefers static paths); this list covers what
 * the router cannot know: another method on an own path (`DELETE /healthz`)
 * or an unknown path in an own namespace (`/oauth2/v2/token`, `/admin/x`).
 * Those get the server's 404 instead of travelling upstream with the caller's
 * identity attached, so the upstream can never shadow or extend the token
 * service's surface.
 */
export function serverPathMatcher(config: Config): (path: string) => boolean {
  const exact = new Set<string>([
    '/healthz',
    '/readyz',
    '/openapi.json',
    '/admin',
    '/.well-known/oauth-authorization-server',
    '/.well-known/openid-configuration',
    ...config.versions.map((v) => `/api/${v}/auth`),
  ]);
  // With --metrics-port, /metrics is not served on the main port and the upstream may have its own.
  if (!config.metricsPort) exact.add('/metrics');
  const prefixes = ['/oauth2/', '/admin/'];
  return (path) => exact.has(path) || prefixes.some((p) => path.startsWith(p));
}
