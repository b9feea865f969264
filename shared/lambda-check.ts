/**
 * The `lambda` check kind: a check written in any language, run as the user's own Lambda function.
 * The validator invokes it synchronously with a versioned JSON payload describing the restore job and
 * the restored resource, and reads a small JSON answer back. Everything that is not a well-formed
 * answer in time — a function error, a timeout, a malformed answer, an Invoke that AWS refuses —
 * ends as an `error` result whose detail says why; it never crashes the validation.
 *
 * The payload and the answer are a public contract (docs/extending.md): fields are only ever added
 * within `version: 1`; a breaking change bumps `version`.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { parseArn } from './arn';
import { registerCheckImplementation } from './check-implementations';
import { type CheckDefinition, type CheckOutcome, errored } from './checks';
import { registerClients } from './clients';
import type { CheckConfig } from './config/index';
import { optionsOf } from './config/kinds/registry';
import { reasonOf } from './errors';
import { lambdaKind } from './lambda-check-kind';
import type { ValidationContext } from './validator';

registerClients({ lambda: LambdaClient });

/** The payload version this code sends. Bumped only for a breaking change to the payload or answer. */
export const LAMBDA_CHECK_PAYLOAD_VERSION = 1;

/** Largest `detail` kept from an answer; longer text is cut (the verdict message is 1,000 chars anyway). */
export const MAX_ANSWER_DETAIL_LENGTH = 2000;
/** Largest `data` object (as JSON) kept from an answer: evidence is for counts and measurements, not rows. */
export const MAX_ANSWER_DATA_BYTES = 16 * 1024;

/** The JSON document the user's function receives (`version: 1`). Unknown fields must be ignored. */
export interface LambdaCheckPayload {
  readonly version: typeof LAMBDA_CHECK_PAYLOAD_VERSION;
  /** `lambda` for a real restore job, `local` when run by `restore-validation check`. */
  readonly mode: 'lambda' | 'local';
  readonly restoreJob: {
    readonly id: string;
    readonly resourceType: string;
    readonly accountId: string | null;
    readonly region: string | null;
    readonly createdResourceArn: string | null;
    readonly sourceResourceArn: string | null;
    readonly recoveryPointArn: string | null;
    /** ISO 8601, the reference time for freshness; null when unknown. */
    readonly recoveryPointCreationDate: string | null;
    readonly restoreTestingPlanName: string | null;
    /** `GetRestoreJobMetadata` as AWS returned it (string values; lists are JSON-encoded strings). */
    readonly metadata: Readonly<Record<string, string>>;
  };
  /** The restored resource's ARN and its parts; null when the job names none (e.g. a local run without one). */
  readonly restoredResource: {
    readonly arn: string;
    readonly partition: string;
    readonly service: string;
    readonly region: string;
    readonly accountId: string;
    readonly resource: string;
    readonly resourceType: string;
    readonly resourceId: string;
  } | null;
  /** The profile that asked for this check; null when none matched. */
  readonly profile: { readonly name: string } | null;
  readonly check: {
    readonly id: string;
    readonly description: string | null;
    readonly timeoutSeconds: number;
  };
  /** The check's `lambda.options` from the config, as given ({} when none). */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * The answer the function returns. `status` and `detail` are required; `data` (a JSON object) is kept
 * in the evidence. Extra top-level fields are ignored, so a function may return more for its own use.
 */
export const lambdaCheckAnswerSchema = z.looseObject({
  status: z.enum(['pass', 'fail', 'skip', 'error']),
  detail: z.string().min(1, 'detail must say what was found'),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type LambdaCheckAnswer = z.infer<typeof lambdaCheckAnswerSchema>;

/** Builds the payload for one check; exported so tests and other runners send exactly the same thing. */
export function buildLambdaCheckPayload(
  check: CheckConfig,
  ctx: Pick<ValidationContext, 'job' | 'profile' | 'mode'>,
): LambdaCheckPayload {
  const opts = optionsOf(lambdaKind, check).lambda;
  const job = ctx.job;
  const created = job.createdResourceArn ? (job.created ?? parseArn(job.createdResourceArn)) : undefined;
  return {
    version: LAMBDA_CHECK_PAYLOAD_VERSION,
    mode: ctx.mode,
    restoreJob: {
      id: job.restoreJobId,
      resourceType: job.resourceType,
      accountId: job.accountId ?? null,
      region: job.region ?? null,
      createdResourceArn: job.createdResourceArn ?? null,
      sourceResourceArn: job.sourceResourceArn ?? null,
      recoveryPointArn: job.recoveryPointArn ?? null,
      recoveryPointCreationDate: job.recoveryPointCreationDate?.toISOString() ?? null,
      restoreTestingPlanName: job.restoreTestingPlanName ?? null,
      metadata: job.metadata.toJSON(),
    },
    restoredResource: created
      ? {
          arn: created.arn,
          partition: created.partition,
          service: created.service,
          region: created.region,
          accountId: created.accountId,
          resource: created.resource,
          resourceType: created.resourceType,
          resourceId: created.resourceId,
        }
      : null,
    profile: ctx.profile ? { name: ctx.profile.name } : null,
    check: {
      id: check.id,
      description: typeof check.description === 'string' ? check.description : null,
      timeoutSeconds: effectiveTimeoutSeconds(check),
    },
    options: opts.options ?? {},
  };
}

/** `lambda.timeoutSeconds` (default 60), tightened by the check's own `timeoutSeconds` when that is smaller. */
function effectiveTimeoutSeconds(check: CheckConfig): number {
  const own = optionsOf(lambdaKind, check).lambda.timeoutSeconds ?? 60;
  const base = typeof check.timeoutSeconds === 'number' ? check.timeoutSeconds : Number.POSITIVE_INFINITY;
  return Math.min(own, base);
}

/**
 * Reads an Invoke response into a check outcome. Pure, so every malformed shape is easy to test.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_ResponseSyntax
 */
export function interpretInvokeResponse(
  out: Pick<InvokeCommandOutput, 'StatusCode' | 'FunctionError' | 'Payload' | 'ExecutedVersion'>,
): CheckOutcome {
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError) {
    // The runtime answers a thrown error with {errorType, errorMessage, ...}; a crash may give anything.
    let reason = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
      if (
        body &&
        typeof body === 'object' &&
        (body.errorMessage !== undefined || body.errorType !== undefined)
      ) {
        reason = [body.errorType, body.errorMessage].filter((v) => typeof v === 'string' && v).join(': ');
      }
    } catch {
      // not JSON: keep the raw (shortened) text
    }
    return errored(`the check function failed (${out.FunctionError}): ${reason || 'no error message'}`);
  }
  if (out.StatusCode !== undefined && out.StatusCode !== 200) {
    return errored(`the check function was not run synchronously (Invoke status ${out.StatusCode})`);
  }
  if (text.trim() === '' || text.trim() === 'null') {
    return errored(
      'malformed answer: the check function returned nothing; return {"status": "pass"|"fail"|"skip"|"error", "detail": "..."}',
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return errored(`malformed answer: not JSON (starts with ${JSON.stringify(text.slice(0, 40))})`);
  }
  // Python/Node handlers sometimes return the answer JSON-encoded a second time.
  if (typeof body === 'string') {
    const inner = body;
    try {
      body = JSON.parse(inner);
    } catch {
      return errored(`malformed answer: a string, not an object (${JSON.stringify(inner.slice(0, 40))})`);
    }
  }
  const parsed = lambdaCheckAnswerSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(answer)'}: ${i.message}`)
      .join('; ');
    return errored(`malformed answer: ${problems}`);
  }
  const answer = parsed.data;
  if (answer.data !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(answer.data), 'utf8');
    if (size > MAX_ANSWER_DATA_BYTES) {
      return errored(
        `malformed answer: data is ${size} bytes as JSON, more than ${MAX_ANSWER_DATA_BYTES}; keep counts and measurements, not rows`,
      );
    }
  }
  const detail =
    answer.detail.length > MAX_ANSWER_DETAIL_LENGTH
      ? `${answer.detail.slice(0, MAX_ANSWER_DETAIL_LENGTH - 1)}…`
      : answer.detail;
  return { status: answer.status, detail, ...(answer.data ? { data: answer.data } : {}) };
}

/** Grace the runner gives beyond the Invoke timeout, so the reason a slow function reports is ours, not the runner's. */
const RUNNER_GRACE_MS = 2_000;

function abortedBy(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Turns a parsed `lambda` check into a runnable check. */
export function lambdaCheck(check: CheckConfig, ctx: ValidationContext): CheckDefinition<unknown> {
  const opts = optionsOf(lambdaKind, check).lambda;
  const timeoutSeconds = effectiveTimeoutSeconds(check);
  return {
    id: check.id,
    description:
      typeof check.description === 'string' ? check.description : `Lambda check ${opts?.functionArn ?? ''}`,
    timeoutMs: timeoutSeconds * 1000 + RUNNER_GRACE_MS,
    async run(_facts, runCtx) {
      if (!opts?.functionArn) return errored('the lambda check has no functionArn');
      const payload = buildLambdaCheckPayload(check, ctx);
      const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
      const signal = AbortSignal.any([timeout, runCtx.signal]);
      const started = Date.now();
      ctx.logger.debug('lambda check invoking', { checkId: check.id, functionArn: opts.functionArn });
      let out: InvokeCommandOutput;
      try {
        // Race the abort as well: the answer must not depend on the HTTP handler honouring the signal.
        out = await Promise.race([
          ctx.clients.lambda.send(
            new InvokeCommand({
              FunctionName: opts.functionArn,
              InvocationType: 'RequestResponse',
              Payload: Buffer.from(JSON.stringify(payload)),
            }),
            { abortSignal: signal },
          ),
          abortedBy(signal),
        ]);
      } catch (err) {
        if (timeout.aborted)
          return errored(
            `the check function did not answer within ${timeoutSeconds} s (lambda.timeoutSeconds)`,
          );
        if (runCtx.signal.aborted)
          return errored(
            `the check function was stopped: ${reasonOf(runCtx.signal.reason ?? 'validation deadline reached')}`,
          );
        return errored(`could not invoke the check function ${opts.functionArn}: ${reasonOf(err)}`);
      }
      const outcome = interpretInvokeResponse(out);
      ctx.logger.debug('lambda check answered', {
        checkId: check.id,
        status: outcome.status,
        ms: Date.now() - started,
      });
      return outcome;
    },
  };
}

registerCheckImplementation('lambda', lambdaCheck);
