/**
 * One HTTP attempt with a timeout, turning transport failures into typed errors.
 * Only web-platform globals (fetch, AbortSignal, Headers) so the SDK runs in browsers too.
 */
import { RecoveryConnectError } from './errors.js';

export interface Attempt {
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  /** The caller's signal: its abort rejects with its own reason, exactly as fetch does. */
  readonly signal?: AbortSignal | null | undefined;
}

/**
 * Sends one request. Resolves with the response whatever its status; rejects with
 * the caller's abort reason, or a `RecoveryConnectError` with code `timeout` or
 * `network_error`.
 *
 * The timeout signal stays attached to the response, so it also bounds reading the body.
 */
export async function send(attempt: Attempt, url: string, init: RequestInit): Promise<Response> {
  const timeout = Number.isFinite(attempt.timeoutMs) ? AbortSignal.timeout(attempt.timeoutMs) : undefined;
  const signal = anySignal([attempt.signal ?? undefined, timeout]);
  // Called unbound: browsers reject `window.fetch` invoked as a method of another object.
  const fetchFn = attempt.fetch;
  try {
    return await fetchFn(url, signal === undefined ? init : { ...init, signal });
  } catch (error) {
    throw transportError(error, attempt, timeout, url);
  }
}

/** Reads a body as text under the same rules as {@link send} (the timeout already rides on the response). */
export async function readText(response: Response, attempt: Attempt, url: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw transportError(error, attempt, undefined, url);
  }
}

function transportError(error: unknown, attempt: Attempt, timeout: AbortSignal | undefined, url: string): unknown {
  if (attempt.signal?.aborted) return attempt.signal.reason;
  const where = describe(url);
  if (timeout?.aborted || isTimeout(error)) {
    return new RecoveryConnectError('timeout', `No answer from ${where} within ${attempt.timeoutMs} ms.`);
  }
  // fetch's own message is just "fetch failed"; the useful part (ECONNREFUSED, …) is in its cause.
  return new RecoveryConnectError('network_error', `Could not reach ${where}.`, { cause: error });
}

function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}

/** Origin and path only: a query string is the caller's business and stays out of error messages. */
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the server';
  }
}

/**
 * Combines signals. `AbortSignal.any` exists from Node 20.3 and in current browsers;
 * the fallback keeps older runtimes working (its listeners live as long as the inputs).
 */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(present);
  const controller = new AbortController();
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/**
 * Whether fetch can send this body a second time. Strings, bytes, forms and blobs
 * are re-serialized on every call; a stream is consumed by the first attempt.
 */
export function isReplayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== 'undefined' && body instanceof Blob) ||
    (typeof FormData !== 'undefined' && body instanceof FormData)
  );
}

/** Frees the connection of a response we are not going to hand back. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Already consumed or errored: nothing left to free.
  }
}
