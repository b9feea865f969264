/**
 * The check framework. A check is a small unit over gathered facts that returns a result; a failed
 * check is a result, not an exception. An exception inside a check becomes `error` with its reason,
 * a check that runs past its timeout (or the validation deadline) becomes `error: timed out`.
 */
import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { reasonOf } from './errors';

export type CheckStatus = 'pass' | 'fail' | 'skip' | 'error';

/** What a check returns. `data` is structured evidence (counts, measured values); never secrets or row data. */
export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly detail: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** A check's outcome as recorded: with its id and how long it took. */
export interface CheckResult extends CheckOutcome {
  readonly id: string;
  readonly durationMs: number;
}

/** What a running check can use besides the facts. */
export interface CheckRunContext {
  /** Aborted when the check's timeout or the validation deadline passes: stop work and release resources. */
  readonly signal: AbortSignal;
}

export interface CheckDefinition<F> {
  /** Unique within a validation; appears in the verdict message and the evidence. */
  readonly id: string;
  readonly description?: string;
  /** Per-check timeout; defaults to the runner's. */
  readonly timeoutMs?: number;
  run(facts: F, ctx: CheckRunContext): Promise<CheckOutcome> | CheckOutcome;
}

/**
 * Declares a check. Validates the id up front, so a typo fails when the module loads.
 * @example defineCheck<DbFacts>({ id: 'status', run: (f) => f.status === 'available' ? pass('available') : fail(f.status) })
 */
export function defineCheck<F>(def: CheckDefinition<F>): CheckDefinition<F> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(def.id)) {
    throw new TypeError(
      `check id ${JSON.stringify(def.id)} is invalid: use 1-128 letters, digits and . _ : / - (start with a letter or digit)`,
    );
  }
  if (def.timeoutMs !== undefined && !(def.timeoutMs > 0)) {
    throw new TypeError(`check ${def.id}: timeoutMs must be a positive number, got ${def.timeoutMs}`);
  }
  return def;
}

/** The four outcome constructors: `pass(detail, data?)`, `fail`, `skip`, `errored`. */
const outcome =
  (status: CheckStatus) =>
  (detail: string, data?: Record<string, unknown>): CheckOutcome => ({ status, detail, data });
export const pass = outcome('pass');
export const fail = outcome('fail');
export const skip = outcome('skip');
export const errored = outcome('error');

export interface RunChecksOptions {
  /** How many checks run at once. Default 4. */
  readonly concurrency?: number;
  /** Default per-check timeout. Default 60 s. */
  readonly checkTimeoutMs?: number;
  /** Epoch ms after which no check may still be running. */
  readonly deadline?: number;
  /** Aborts every running check (e.g. the Lambda is about to time out). */
  readonly signal?: AbortSignal;
  /** Called after each check finishes (progress, logging). */
  readonly onResult?: (result: CheckResult) => void;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_CHECK_TIMEOUT_MS = 60_000;

/**
 * Runs checks with bounded concurrency. Never throws for a check's sake: every check yields exactly
 * one result, in the order the checks were given. Duplicate ids are an error result, not a crash.
 */
export async function runChecks<F>(
  checks: readonly CheckDefinition<F>[],
  facts: F,
  options: RunChecksOptions = {},
): Promise<CheckResult[]> {
  const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
  const seen = new Set<string>();
  return Promise.all(
    checks.map((check) => {
      const duplicate = seen.has(check.id);
      seen.add(check.id);
      return limit(async () => {
        const result = duplicate
          ? {
              id: check.id,
              status: 'error' as const,
              detail: `duplicate check id ${check.id}`,
              durationMs: 0,
            }
          : await runOne(check, facts, options);
        options.onResult?.(result);
        return result;
      });
    }),
  );
}

async function runOne<F>(
  check: CheckDefinition<F>,
  facts: F,
  options: RunChecksOptions,
): Promise<CheckResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (options.signal?.aborted) {
    return { id: check.id, status: 'error', detail: 'not run: validation deadline reached', durationMs: 0 };
  }
  let timeoutMs = check.timeoutMs ?? options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  let byDeadline = false;
  if (options.deadline !== undefined) {
    const left = options.deadline - Date.now();
    if (left <= 0)
      return { id: check.id, status: 'error', detail: 'not run: validation deadline reached', durationMs: 0 };
    if (left < timeoutMs) {
      timeoutMs = left;
      byDeadline = true;
    }
  }
  const controller = new AbortController();
  // One check may fan out to many requests at once (the S3 compare lists 16 prefixes side by side),
  // each listening on this signal: that is the design, not a leak.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve(
        errored(
          byDeadline
            ? `timed out: validation deadline reached after ${timeoutMs} ms`
            : `timed out after ${timeoutMs} ms`,
        ),
      );
      controller.abort(new Error('timed out'));
    }, timeoutMs);
  });
  // The whole validation was aborted (deadline or Lambda shutting down) while this check ran.
  const aborted = new Promise<CheckOutcome>((resolve) => {
    options.signal?.addEventListener(
      'abort',
      () => resolve(errored('timed out: validation deadline reached')),
      { once: true },
    );
  });
  try {
    const outcome = await Promise.race([
      Promise.resolve().then(() => check.run(facts, { signal: controller.signal })),
      timedOut,
      aborted,
    ]);
    const result = normalise(outcome);
    const took = elapsed();
    // Synchronous work (a busy loop) blocks the timer that would have ended it: a pass or skip that
    // arrives after the timeout is not evidence, whatever it says.
    if (took > timeoutMs && (result.status === 'pass' || result.status === 'skip'))
      return {
        ...errored(
          `timed out after ${timeoutMs} ms: it blocked for ${took} ms and its ${result.status} came too late`,
        ),
        id: check.id,
        durationMs: took,
      };
    return { ...result, id: check.id, durationMs: took };
  } catch (err) {
    return { id: check.id, status: 'error', detail: reasonOf(err), durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function normalise(outcome: unknown): CheckOutcome {
  if (
    outcome &&
    typeof outcome === 'object' &&
    'status' in outcome &&
    ['pass', 'fail', 'skip', 'error'].includes(String((outcome as CheckOutcome).status))
  ) {
    const o = outcome as CheckOutcome;
    return {
      status: o.status,
      detail: typeof o.detail === 'string' ? o.detail : String(o.detail ?? ''),
      data: o.data,
    };
  }
  return errored(`check returned no valid result (got ${JSON.stringify(outcome)?.slice(0, 100)})`);
}
