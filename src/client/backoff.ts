/**
 * When to try again after a 429 or 503: the server's `Retry-After` is a floor,
 * capped exponential backoff with jitter spreads many clients apart on top of it.
 */

/** First backoff step; doubles with each attempt up to `maxBackoffMs`. */
export const BASE_BACKOFF_MS = 200;

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
 * Returns milliseconds to wait (a date in the past gives 0), or `undefined` when
 * the header is absent or malformed.
 *
 * @example parseRetryAfter('2', Date.now()) // 2000
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also accepts bare numbers and other formats; an HTTP-date always names a weekday.
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Milliseconds to wait before retry number `attempt` (0-based), or `undefined` when
 * the server asked for a longer wait than `maxBackoffMs`: sleeping through a long
 * throttle (a locked-out login can say 15 minutes) would only hang the caller, so
 * the 429/503 is handed back instead.
 *
 * "Equal jitter": half the exponential step is fixed, half random, so retries never
 * bunch up at zero and never exceed the step.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  maxBackoffMs: number,
  random: () => number = Math.random,
): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > maxBackoffMs) return undefined;
  const step = Math.min(maxBackoffMs, BASE_BACKOFF_MS * 2 ** attempt);
  const jittered = step / 2 + random() * (step / 2);
  return Math.min(maxBackoffMs, (retryAfterMs ?? 0) + jittered);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
