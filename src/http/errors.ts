import { InvalidRequest, OAuthError, ServerError, StoreUnavailable, TemporarilyUnavailable } from '../core/errors.js';

export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; request_id?: string };
  /** The original error when it was unexpected (to be logged). */
  unexpected?: unknown;
}

/** Fastify's own client errors, by code: status and what to tell the client. */
const FASTIFY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'The request body is larger than allowed.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'The content type must be application/json or application/x-www-form-urlencoded.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'The request body is empty.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'The Content-Length does not match the body.'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'The content type is missing.'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'The content type is invalid.'],
  FST_ERR_CTP_INVALID_CHARSET: [415, 'The charset must be utf-8.'],
  FST_ERR_VALIDATION: [400, 'The request is malformed.'],
  FST_ERR_BAD_URL: [400, 'The URL is malformed.'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'The request is malformed.'],
};

/**
 * The one place that turns an error into a wire body (SPEC §3 errors): known
 * OAuth errors keep their code and status, framework client errors become
 * invalid_request, an unreachable store becomes 503, anything else a 500
 * server_error carrying the request id (and the cause goes to the log only).
 */
export function toWire(err: unknown, requestId: string): WireError {
  let e: OAuthError;
  let unexpected: unknown;
  if (err instanceof OAuthError) e = err;
  else if (err instanceof StoreUnavailable) e = new TemporarilyUnavailable();
  else {
    const code = (err as { code?: string } | null)?.code;
    const status = (err as { statusCode?: number } | null)?.statusCode;
    const known = code ? FASTIFY_ERRORS[code] : undefined;
    if (known) e = new InvalidRequest(known[1], known[0]);
    else if (err instanceof SyntaxError || (status !== undefined && status >= 400 && status < 500)) {
      e = new InvalidRequest('The request is malformed.', status && status !== 404 ? status : 400);
    } else {
      e = new ServerError();
      unexpected = err;
    }
  }
  const body: WireError['body'] = { error: e.code, error_description: e.message };
  if (e.status >= 500) body.request_id = requestId;
  return { status: e.status, headers: { ...e.headers }, body, unexpected };
}
