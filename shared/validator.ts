/**
 * The validator API. Every validator — built-in or a user's — is a `defineValidator()` value:
 * how facts about the restored resource are gathered, which checks run over them, and what must be
 * cleaned up afterwards. The lifecycle (shared/lifecycle.ts) and the CLI run validators the same way
 * through `runValidator`, so a check behaves identically in Lambda and on a laptop.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '@aws-lambda-powertools/logger';
import { unhandledProfileChecks } from './check-implementations';
import { type CheckDefinition, type CheckResult, errored, runChecks } from './checks';
import type { Clients } from './clients';
import type { Config, Profile } from './config/index';
import type { Settings } from './env';
import { DeadlineExceededError, ResourceStateError, reasonOf, SafetyGuardError } from './errors';
import { assertSameAccount } from './guard';
import type { RestoreJob } from './job';
import {
  judgeObjectives,
  type Objectives,
  objectiveResults,
  resolveObjectives,
  restoreDurationSeconds,
} from './objectives';
import type { ResourceType } from './resource-types';
import { decideVerdict, type Verdict } from './verdict/decide';

/**
 * Everything a validator may use while it runs. `S` is the validator's own settings, as it declared
 * them (`ValidatorDefinition.settings`).
 */
// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export interface ValidationContext<S extends object = {}> {
  readonly job: RestoreJob;
  /** The matched profile, or undefined when none matched (built-in checks only). */
  readonly profile: Profile | undefined;
  readonly config: Config;
  readonly logger: Logger;
  readonly clients: Clients;
  /** Aborted when the validation deadline passes. */
  readonly signal: AbortSignal;
  /** Epoch ms by which every check must have finished (the Lambda keeps a reserve to report). */
  readonly deadline: number;
  remainingMs(): number;
  /** `lambda` for a real restore job, `local` for `restore-validation check`. */
  readonly mode: 'lambda' | 'local';
  /** CLI target options (`--host`, `--bucket`, `--device`, …) in local mode. */
  readonly target: Readonly<Record<string, unknown>>;
  /** The validator's settings, read from the function's environment as it declared them. */
  readonly settings: S;
  /**
   * A dry run posts nothing to AWS Backup (replay --dry-run, a dry-run deployment): a validator that
   * hands work to Step Functions passes it on, so the hand-off posts nothing either.
   */
  readonly dryRun: boolean;
  /** Records a measured fact for the evidence (e.g. `dataAgeMinutes`, `provenBy`). */
  note(key: string, value: unknown): void;
}

// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export interface ValidatorDefinition<F = unknown, S extends object = {}> {
  /** Validator name, e.g. `rds`; used in logs, metrics and evidence. */
  readonly name: string;
  /** Resource types it serves. */
  readonly resourceTypes: readonly ResourceType[];
  /**
   * The settings it reads from its function's environment, declared once (`defineSettings`); the
   * lifecycle reads them and passes them as `ctx.settings`.
   */
  readonly settings?: Settings<S>;
  /** Gathers facts about the restored resource. Throw ResourceStateError for a resource that is not usable. */
  gather(ctx: ValidationContext<S>): Promise<F>;
  /** The checks to run: built-in state checks plus those the profile asks for. */
  checks(ctx: ValidationContext<S>, facts: F): readonly CheckDefinition<F>[];
  /** Always called (even after a failure) to release what gather created. */
  cleanup?(ctx: ValidationContext<S>, facts: F | undefined): Promise<void>;
}

/** Declares a validator, validating it when the module loads. */
// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export function defineValidator<F, S extends object = {}>(
  def: ValidatorDefinition<F, S>,
): ValidatorDefinition<F, S> {
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(def.name)) {
    throw new TypeError(
      `validator name ${JSON.stringify(def.name)} is invalid: use 1-40 lower-case letters, digits and -`,
    );
  }
  if (def.resourceTypes.length === 0)
    throw new TypeError(`validator ${def.name}: give at least one resource type`);
  return def;
}

/**
 * Thrown by a validator that has handed the rest of the work to a Step Functions execution, which will
 * post the verdict itself. The lifecycle then posts nothing and records the hand-off in the evidence.
 */
export class DeferredValidation extends Error {
  readonly executionArn: string;
  constructor(executionArn: string, message = 'validation continues in Step Functions') {
    super(message);
    this.name = 'DeferredValidation';
    this.executionArn = executionArn;
  }
}

export interface ValidationRun {
  readonly verdict: Verdict;
  readonly results: readonly CheckResult[];
  readonly notes: Readonly<Record<string, unknown>>;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Set when the work was handed to Step Functions and no verdict should be posted now. */
  readonly deferredTo?: string;
  /** The recovery objectives of the profile (or defaults), judged into the evidence. */
  readonly objectives?: Objectives;
}

export interface RunValidatorOptions {
  readonly concurrency?: number;
  readonly checkTimeoutMs?: number;
  readonly failWhenNothingChecked?: boolean;
  readonly onResult?: (result: CheckResult) => void;
  /**
   * Budget of the validator's clean-up, in ms (default 30 s). It starts when the checks end, also
   * after the deadline: clean-up gets a fresh signal and deadline of its own, and one that outlasts
   * its budget is ended as `cleanup: error` so the verdict is still posted in time.
   */
  readonly cleanupTimeoutMs?: number;
}

export const DEFAULT_CLEANUP_TIMEOUT_MS = 30_000;

/**
 * Context fields the caller supplies; `note` and `remainingMs` are provided here. Without `settings`
 * the validator runs with its declared defaults (nothing set); without `dryRun` it is not one.
 */
// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export type ContextInput<S extends object = {}> = Omit<
  ValidationContext<S>,
  'note' | 'remainingMs' | 'signal' | 'settings' | 'dryRun'
> & {
  signal?: AbortSignal;
  settings?: S;
  dryRun?: boolean;
};

/**
 * Runs one validator: gather → checks → cleanup → verdict. Never throws except DeferredValidation's
 * hand-off being reported as `deferredTo`: every failure becomes a result, so a verdict always exists.
 */
// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export async function runValidator<F, S extends object = {}>(
  validator: ValidatorDefinition<F, S>,
  // The validator says which settings it reads; the input must give those (or none: its defaults).
  input: ContextInput<NoInfer<S>>,
  options: RunValidatorOptions = {},
): Promise<ValidationRun> {
  const startedAt = new Date();
  const notes: Record<string, unknown> = {};
  const controller = new AbortController();
  // Every running check listens on this signal; a profile of many checks is normal, not a leak.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort(input.signal?.reason);
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadlineTimer = setTimeout(
    () => controller.abort(new Error('validation deadline reached')),
    Math.max(0, input.deadline - Date.now()),
  );
  // The checks' signal and deadline, replaced by the clean-up's own when clean-up starts. One context
  // object for gather, checks and clean-up: validators may key state on it.
  let phase = { signal: controller.signal, deadline: input.deadline };
  const ctx: ValidationContext<S> = {
    ...input,
    settings: input.settings ?? ((validator.settings?.({}) ?? {}) as S),
    dryRun: input.dryRun ?? false,
    get signal() {
      return phase.signal;
    },
    get deadline() {
      return phase.deadline;
    },
    remainingMs: () => Math.max(0, phase.deadline - Date.now()),
    note: (key, value) => {
      notes[key] = value;
    },
  };
  const profile = input.profile;
  const failWhenNothingChecked =
    options.failWhenNothingChecked ??
    profile?.failWhenNothingChecked ??
    input.config.defaults.failWhenNothingChecked;
  const results: CheckResult[] = [];
  let facts: F | undefined;
  let deferredTo: string | undefined;
  try {
    const gatherStart = performance.now();
    try {
      // A restored resource of another account is never ours to touch, whatever the event says.
      if (!input.job.local) assertSameAccount(input.job.createdResourceArn, input.job.accountId, 'validate');
      facts = await raceDeadline(validator.gather(ctx), ctx, 'gathering facts');
    } catch (err) {
      if (err instanceof DeferredValidation) {
        deferredTo = err.executionArn;
      } else {
        const status = err instanceof ResourceStateError ? 'fail' : 'error';
        const prefix = err instanceof SafetyGuardError ? 'safety guard: ' : '';
        results.push({
          id: 'restored-resource',
          status,
          detail: `${prefix}${reasonOf(err)}`,
          durationMs: Math.round(performance.now() - gatherStart),
        });
      }
    }
    if (facts !== undefined && deferredTo === undefined) {
      let checks: readonly CheckDefinition<F>[] = [];
      try {
        checks = validator.checks(ctx, facts);
        const handled = new Set(checks.map((c) => c.id));
        checks = [
          ...checks,
          ...(unhandledProfileChecks(ctx, validator.name, handled) as CheckDefinition<F>[]),
        ];
      } catch (err) {
        results.push({
          id: 'checks',
          ...errored(`could not build the checks: ${reasonOf(err)}`),
          durationMs: 0,
        });
      }
      results.push(
        ...(await runChecks(checks, facts, {
          concurrency: options.concurrency ?? profile?.concurrency ?? input.config.defaults.concurrency,
          checkTimeoutMs:
            options.checkTimeoutMs ??
            (profile?.checkTimeoutSeconds ?? input.config.defaults.checkTimeoutSeconds) * 1000,
          deadline: input.deadline,
          signal: controller.signal,
          onResult: options.onResult,
        })),
      );
    }
  } finally {
    if (validator.cleanup && deferredTo === undefined) {
      const cleanupStart = performance.now();
      const budget = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
      try {
        // Clean-up must run even when the deadline has passed, so it gets its own signal and budget.
        await runCleanup(validator, ctx, facts, budget, input.signal, (next) => {
          phase = next;
        });
      } catch (err) {
        results.push({
          id: 'cleanup',
          status: 'error',
          detail: `clean-up failed: ${reasonOf(err)}`,
          durationMs: Math.round(performance.now() - cleanupStart),
        });
      }
    }
    clearTimeout(deadlineTimer);
    input.signal?.removeEventListener('abort', onOuterAbort);
  }
  const objectives = resolveObjectives(input.config, profile);
  if (objectives?.onMiss === 'fail' && deferredTo === undefined) {
    const dataAge = notes.dataAgeMinutes;
    results.push(
      ...objectiveResults(
        judgeObjectives(objectives, {
          restoreDurationSeconds: restoreDurationSeconds(input.job),
          dataAgeMinutes: typeof dataAge === 'number' ? dataAge : undefined,
        }),
      ),
    );
  }
  const verdict = decideVerdict(results, { failWhenNothingChecked });
  return {
    verdict,
    results,
    notes,
    startedAt,
    finishedAt: new Date(),
    ...(deferredTo ? { deferredTo } : {}),
    ...(objectives ? { objectives } : {}),
  };
}

/**
 * Runs the clean-up on the same context, switched to a signal that fires after `budgetMs` (or when
 * the caller aborts) and a deadline of its own.
 */
async function runCleanup<F, S extends object>(
  validator: ValidatorDefinition<F, S>,
  ctx: ValidationContext<S>,
  facts: F | undefined,
  budgetMs: number,
  outer: AbortSignal | undefined,
  enterPhase: (phase: { signal: AbortSignal; deadline: number }) => void,
): Promise<void> {
  const cleanup = validator.cleanup;
  if (!cleanup) return;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineExceededError('clean-up', budgetMs)), budgetMs);
  enterPhase({ signal: controller.signal, deadline: Date.now() + budgetMs });
  try {
    await raceDeadline(cleanup.call(validator, ctx, facts), ctx, 'clean-up');
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

function raceDeadline<T>(work: Promise<T>, ctx: Pick<ValidationContext, 'signal'>, what: string): Promise<T> {
  if (ctx.signal.aborted) return Promise.reject(new Error(`${what}: validation deadline reached`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(
        ctx.signal.reason instanceof DeadlineExceededError
          ? ctx.signal.reason
          : new Error(`${what} timed out: validation deadline reached`),
      );
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
