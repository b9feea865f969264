/**
 * Retry for transient AWS errors (throttling, 5xx, timeouts, connection resets) with full-jitter backoff.
 * The SDK retries too, but a verdict is immutable: we retry once more at our level, around whole calls,
 * before deciding anything. Classification comes from smithy's own error classification.
 */
import {
  isClockSkewError,
  isServerError,
  isThrottlingError,
  isTransientError,
} from '@smithy/service-error-classification';

type ClassifiableError = Parameters<typeof isThrottlingError>[0];

export function isRetryableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as ClassifiableError & { code?: string; $retryable?: unknown };
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
      e.name === 'SlowDown'
    );
  } catch {
    return false;
  }
}

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

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseMs ?? 200;
  const cap = options.maxDelayMs ?? 5_000;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryableError(err) || options.signal?.aborted) throw err;
      const delay = Math.round(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)));
      if (options.deadline !== undefined && Date.now() + delay >= options.deadline) throw err;
      options.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
