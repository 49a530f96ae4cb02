/**
 * Errors are data: one class per RFC error code, carrying the HTTP status and a
 * default description. `src/http/errors.ts` is the one place that turns them into
 * wire bodies. Internal reasons travel in `cause` and go to logs, never to clients.
 */
export abstract class OAuthError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra response headers (Retry-After, Allow, WWW-Authenticate). */
  headers: Record<string, string> = {};

  constructor(description: string, options?: { cause?: unknown }) {
    super(description, options);
    this.name = new.target.name;
  }
}

/** RFC 6749 §5.2: malformed request (also used with 405/413/415 statuses). */
export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
  readonly status: number;
  constructor(description = 'The request is malformed.', status = 400, options?: { cause?: unknown }) {
    super(description, options);
    this.status = status;
  }
}

/** RFC 6749 §5.2: the one answer for bad credentials and bad refresh tokens, so nothing leaks. */
export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
  readonly status: number;
  constructor(description = 'The credentials or refresh token are invalid.', options?: { cause?: unknown; status?: number }) {
    super(description, options);
    this.status = options?.status ?? 401;
  }
}

export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
  readonly status = 400;
  constructor(description = 'The grant_type is not supported.') {
    super(description);
  }
}

export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
  readonly status = 400;
  constructor(description = 'A requested scope is not granted to this account.') {
    super(description);
  }
}

export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  readonly status = 401;
  constructor(description = 'Client authentication failed.') {
    super(description);
  }
}

/** RFC 6750 §3.1: a bearer token that is missing a signature, expired, revoked, ... */
export class InvalidToken extends OAuthError {
  readonly code = 'invalid_token';
  readonly status = 401;
  constructor(description = 'The access token is invalid.', options?: { cause?: unknown }) {
    super(description, options);
  }
}

/** RFC 6750 §3.1: valid token, not enough scope. */
export class InsufficientScope extends OAuthError {
  readonly code = 'insufficient_scope';
  readonly status = 403;
  constructor(readonly scope: string, description = `The access token lacks the scope "${scope}".`) {
    super(description);
  }
}

/** RFC 8628 §3.5 code, used by RFC 6749 servers for throttling. Carries Retry-After. */
export class SlowDown extends OAuthError {
  readonly code = 'slow_down';
  readonly status = 429;
  constructor(readonly retryAfterSeconds: number, description = 'Too many attempts; try again later.') {
    super(description);
    this.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  }
}

export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  readonly status = 503;
  constructor(description = 'The service is temporarily unavailable; try again shortly.', options?: { cause?: unknown }) {
    super(description, options);
    this.headers['retry-after'] = '1';
  }
}

export class ServerError extends OAuthError {
  readonly code = 'server_error';
  readonly status = 500;
  constructor(description = 'An unexpected error occurred.', options?: { cause?: unknown }) {
    super(description, options);
  }
}

/** Not found (admin API and unknown routes). */
export class NotFound extends OAuthError {
  readonly code = 'not_found';
  readonly status = 404;
  constructor(description = 'Not found.') {
    super(description);
  }
}

/** A conflicting write, e.g. a username that exists already. */
export class Conflict extends OAuthError {
  readonly code = 'conflict';
  readonly status = 409;
  constructor(description = 'The resource exists already.') {
    super(description);
  }
}

/** Raised by stores when the database cannot be reached; mapped to 503. */
export class StoreUnavailable extends Error {
  constructor(message = 'store unavailable', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailable';
  }
}

/** Raised by stores on a unique-constraint violation. */
export class UniqueViolation extends Error {
  constructor(message = 'unique violation', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UniqueViolation';
  }
}
