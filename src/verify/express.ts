/**
 * Connect/Express-style middleware, typed structurally so that neither Express
 * nor any other framework is imported. It also works on a bare `node:http` server.
 */
import type { AccessTokenClaims } from './check.js';
import { TokenError, errorResponse } from './errors.js';
import { requireScope } from './scope.js';
import type { Verifier } from './verifier.js';

/** The parts of an Express / `node:http` request the middleware touches. */
export interface NodeStyleRequest {
  headers: { authorization?: string | undefined };
  auth?: AccessTokenClaims;
}

/** The parts of an Express / `node:http` response the middleware touches. */
export interface NodeStyleResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export interface MiddlewareOptions {
  /** Scope(s) every request must carry; otherwise 403 `insufficient_scope`. */
  scope?: string | readonly string[];
  /** `realm` of the RFC 6750 challenge. */
  realm?: string;
}

/**
 * `(req, res, next)` middleware: sets `req.auth` to the verified claims and calls
 * `next()`, or answers 401/403/503 with `{error, error_description}` and the RFC
 * 6750 §3 `WWW-Authenticate` challenge. Unexpected errors go to `next(err)`.
 *
 * @example
 * app.get('/orders', expressVerifier(verifier, { scope: 'orders:read' }), (req, res) => res.json(req.auth));
 */
export function expressVerifier(verifier: Pick<Verifier, 'verifyAuthorization'>, options: MiddlewareOptions = {}) {
  return function rcauthVerify(req: NodeStyleRequest, res: NodeStyleResponse, next: (err?: unknown) => void): void {
    verifier.verifyAuthorization(req.headers.authorization).then(
      (claims) => {
        if (options.scope !== undefined) requireScope(claims, options.scope);
        return claims;
      },
    ).then(
      (claims) => {
        req.auth = claims;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof TokenError)) return next(err);
        const { status, headers, body } = errorResponse(err, options.realm);
        res.statusCode = status;
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        res.setHeader('content-type', 'application/json; charset=utf-8');
        res.end(JSON.stringify(body));
      },
    );
  };
}
