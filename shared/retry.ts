/**
 * Retry for work the AWS SDK does not retry itself, with full-jitter backoff: a response body that
 * breaks mid-stream, a database driver, a user's own HTTP call. SDK calls are retried once, by the
 * client's retry strategy (shared/clients.ts): an error that already went through it (it carries
 * `$metadata.attempts`) is never retried again here, so one logical call cannot multiply into
 * attempts × attempts requests with two backoffs. An abort (the deadline) is never retried either.
 * Classification comes from smithy's own error classification.
 *
 * The domain rule that remains is the lifecycle's: a transient error before a verdict is thrown
 * (Lambda retries the event), never turned into a final FAILED (shared/lifecycle.ts).
 */
import { isClockSkewError, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

type ClassifiableError = Parameters<typeof isThrottlingError>[0];

/** A throttling, server-side, clock-skew or network error: worth another attempt later. */
export function isRetryableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as ClassifiableError & { code?: string; $retryable?: unknown };
  if (e.name === 'AbortError') return false;
  if (e.$retryable) return true;
  if (
    typeof e.code === 'string' &&
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(e.code)
  )
    return true;
  try {
    return (
      isThrottlingError(e) ||
      isTransientError(e) ||
      isServerError(e) ||
      isClockSkewError(e) ||
      e.name === 'SlowDown' ||
      e.name === 'TimeoutError'
    );
  } catch {
    return false;
  }
}

/** True for an error the SDK's retry strategy has already retried as far as it would. */
export const retriedBySdk = (err: unknown): boolean =>
  typeof (err as { $metadata?: { attempts?: unknown } } | undefined)?.$metadata?.attempts === 'number';

export interface RetryOptions {
  /** Total attempts, including the first. Default 5. */
  readonly attempts?: number;
  /** Base delay in ms. Default 200. */
  readonly baseMs?: number;
  /** Cap per delay in ms. Default 5,000. */
  readonly maxDelayMs?: number;
  /** Stop retrying when the next delay would pass this epoch-ms deadline. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Sleep (injectable in tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs `fn`, retrying transient errors that the SDK has not retried already (see the module
 * comment). Wrapping an SDK call in it is harmless but adds nothing.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseMs ?? 200;
  const cap = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || retriedBySdk(err) || !isRetryableError(err) || options.signal?.aborted)
        throw err;
      const delay = Math.round(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
      if (options.deadline !== undefined && Date.now() + delay >= options.deadline) throw err;
      options.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
