/**
 * The one error type the client throws for anything that is not the caller's own
 * abort or a programming mistake (those are the caller's `AbortSignal` reason and
 * `TypeError`, as with `fetch`).
 *
 * Errors are built from data the client controls: a server's `error` code and a
 * redacted `error_description`, never a response body, a request body or a token.
 */

/**
 * Codes the client produces itself. A server may answer with any RFC 6749 §5.2 code
 * (`invalid_grant`, `slow_down`, `temporarily_unavailable`, …), which is passed
 * through as the error's `code`.
 */
export type ClientErrorCode =
  /** The connection failed before a response arrived (DNS, refused, reset, TLS). */
  | 'network_error'
  /** No complete answer within `timeoutMs`. */
  | 'timeout'
  /** The auth endpoint answered with something that is not the documented shape. */
  | 'bad_response'
  /** The client was closed with `close()`. */
  | 'client_closed';

/**
 * Any code a server sends. `Record<never, never>` keeps editors suggesting the
 * known codes while still accepting every string.
 */
export type ServerErrorCode = string & Record<never, never>;

export interface RecoveryConnectErrorOptions {
  status?: number;
  description?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed authentication call, transport failure or unusable auth response.
 *
 * @example
 * ```ts
 * try {
 *   await client.accessToken();
 * } catch (error) {
 *   if (error instanceof RecoveryConnectError && error.code === 'invalid_grant') {
 *     // wrong username/password, or the account was disabled
 *   }
 * }
 * ```
 */
export class RecoveryConnectError extends Error {
  /** The server's `error` code (e.g. `invalid_grant`) or one of {@link ClientErrorCode}. */
  readonly code: ClientErrorCode | ServerErrorCode;
  /** HTTP status of the answer that caused the error, when there was one. */
  declare readonly status?: number;
  /** The server's `error_description`, with any credential the client holds removed. */
  declare readonly description?: string;
  /** How long the server asked us to wait (429/503 with `Retry-After`), in milliseconds. */
  declare readonly retryAfterMs?: number;

  constructor(code: ClientErrorCode | ServerErrorCode, message: string, options: RecoveryConnectErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecoveryConnectError';
    this.code = code;
    // Only set what is known (the fields are `declare`d, so not pre-set to undefined):
    // inspect() and JSON output show no `undefined` noise.
    if (options.status !== undefined) this.status = options.status;
    if (options.description !== undefined) this.description = options.description;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /** JSON.stringify(error) gives the data (an Error's own message is not enumerable). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.description === undefined ? {} : { description: this.description }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}
