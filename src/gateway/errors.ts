import { OAuthError } from '../core/errors.js';

/**
 * The gateway's own failures. They extend OAuthError so the app's one error
 * handler (src/http/errors.ts `toWire`) turns them into the usual
 * `{"error","error_description"}` body; neither is an RFC 6749 code, they name
 * the HTTP status (RFC 9110 §15.6.3, §15.6.5) in the same snake_case style.
 */

/** 502: the upstream could not be reached (refused, reset, DNS, bad answer). */
export class BadGateway extends OAuthError {
  readonly code = 'bad_gateway';
  readonly status = 502;
  constructor(description = 'The upstream service could not be reached.', options?: { cause?: unknown }) {
    super(description, options);
  }
}

/** 504: the upstream did not answer (or connect) within --upstream-timeout. */
export class GatewayTimeout extends OAuthError {
  readonly code = 'gateway_timeout';
  readonly status = 504;
  constructor(description = 'The upstream service did not answer in time.', options?: { cause?: unknown }) {
    super(description, options);
  }
}

/**
 * Maps what @fastify/reply-from reports for a failed upstream call to our two
 * errors. reply-from marks every timeout (headers, connect) with status 504;
 * a small answer read whole (src/gateway/index.ts) can also fail with undici's
 * own body error, where a stall is a timeout too. Everything else (ECONNREFUSED
 * arrives as reply-from's generic 500, a reset as undici's socket error) means
 * the upstream is not usable, which for a proxy is 502, never a 500 of our own.
 * The original error travels in `cause`, for the log only.
 */
export function upstreamFailure(err: unknown, timeoutSeconds: number): BadGateway | GatewayTimeout {
  const { statusCode, code } = (err ?? {}) as { statusCode?: unknown; code?: unknown };
  if (statusCode === 504 || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayTimeout(`The upstream service did not answer within ${timeoutSeconds} s.`, { cause: err });
  }
  return new BadGateway('The upstream service could not be reached.', { cause: err });
}
