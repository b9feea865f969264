/**
 * The end of every validation, wherever it ends: post the verdict (unless it is a dry run), write the
 * evidence record, hand the record to the sinks (evidence store, metrics, notification).
 *
 *   the lifecycle (a validator Lambda)       a run's verdict, or FAILED when it could not run
 *   the EBS helper flow, the S3 merge        the verdict of work a validator handed to Step Functions
 *   the DLQ consumer                         FAILED for a job whose event was lost (no record)
 *   the reconciler                           FAILED when a window closes; records of jobs it found
 *
 * Posting errors are thrown (the caller's retry decides: Lambda, Step Functions, SQS); the record
 * comes after the verdict and is best effort unless the caller asks otherwise.
 */
import type { RestoreJobsListMember } from '@aws-sdk/client-backup';
import type { CheckResult } from '../checks';
import type { Clients } from '../clients';
import { runtimeSettings } from '../env';
import { reasonOf } from '../errors';
import {
  buildEvidence,
  buildListedJobEvidence,
  type EvidenceRecord,
  type EvidenceSettings,
  type EvidenceSink,
} from '../evidence';
import { loadRestoreJob, type RestoreJob } from '../job';
import { logger as defaultLogger, type Logger } from '../logger';
import type { Objectives } from '../objectives';
import type { ValidationRun } from '../validator';
import type { FinalVerdict } from './decide';
import { postVerdict } from './post';

/** What became of the verdict: posted now, found final already (never posted twice), or a dry run. */
export type Posted = 'posted' | 'already-final' | 'dry-run';

/** Where the evidence record comes from. */
export type EvidenceSource =
  | {
      /**
       * A validation run in this process: the lifecycle's (the job as loaded, the run as it ended), or
       * the CLI's `check` of a local resource (a local job: the record's mode is `local`).
       */
      readonly kind: 'run';
      readonly job: RestoreJob;
      readonly run: ValidationRun;
      readonly validator: string;
      readonly profile?: string;
    }
  | {
      /**
       * Work a validator handed to Step Functions, finished there (the EBS helper flow, the S3 merge):
       * the job is read again, and the record replaces the DEFERRED one of the hand-off.
       */
      readonly kind: 'hand-off';
      /** The validator that handed off (`ebs`, `s3`). */
      readonly validator: string;
      /** When the deferred work started (the record's validationStartedAt). */
      readonly startedAt: Date;
      /** Facts for the auditor beside the checks (the helper instance, the comparison counts). */
      readonly notes?: Readonly<Record<string, unknown>>;
      /** The profile's recovery objectives as handed over, judged into the record. */
      readonly objectives?: Objectives;
    }
  | {
      /** A job the reconciler found in a ListRestoreJobs page: no validation ran. */
      readonly kind: 'listing';
      readonly job: RestoreJobsListMember;
      readonly plan: { readonly arn: string; readonly name: string };
      /** The record's verdict, which may differ from the one posted (TIMED_OUT for a window that closed). */
      readonly verdict: EvidenceRecord['verdict'];
      readonly message: string;
      /** The record's one instant, stable between passes (its key is derived from it). */
      readonly at: Date;
      readonly notes: Readonly<Record<string, unknown>>;
    };

export interface FinishInput {
  readonly restoreJobId: string;
  /**
   * The verdict to post: decided from the checks (`decideVerdict`), or FAILED with the reason nothing
   * could be checked. Without one nothing is posted: the work was handed to Step Functions, or the job
   * can take no verdict (its restore failed, its window closed).
   */
  readonly verdict?: {
    readonly verdict: FinalVerdict;
    readonly message: string;
    readonly checks?: readonly CheckResult[];
  };
  /** Decide and record, post nothing to AWS Backup (replay --dry-run, a dry-run deployment). */
  readonly dryRun: boolean;
  /** Ends the post, retries included (the invocation's deadline). */
  readonly abortSignal?: AbortSignal;
  /** ValidationStatus as the caller has just read it ('' for none): the post skips its own look-up. */
  readonly knownValidationStatus?: string;
  /** What the evidence record is built from; without it no record is written (the DLQ consumer). */
  readonly evidence?: EvidenceSource;
  /**
   * Write the record only when this call posted the verdict: a job that became final meanwhile was
   * validated by somebody else, whose record must not be replaced (the reconciler).
   */
  readonly recordOnlyIfPosted?: boolean;
}

export interface FinishDeps {
  /** AWS Backup (posting, reading the job again) and the clients the sinks write with. */
  readonly clients: Clients;
  /** The code version the record carries, where the stack's sinks write. @default runtimeSettings() */
  readonly settings?: EvidenceSettings;
  /** @default the stack's sinks (evidence store, metrics, notification), see {@link registerStackSinks} */
  readonly sinks?: readonly EvidenceSink[];
  /** How a verdict is posted. @default postVerdict (re-reads ValidationStatus first) */
  readonly postVerdict?: typeof postVerdict;
  readonly logger?: Logger;
  /**
   * What a failing sink does: `log` (default) logs it and the next sink still runs, since the verdict
   * is posted and the record must not undo it; `throw` stops at it, for a caller that counts it.
   */
  readonly sinkErrors?: 'log' | 'throw';
}

export interface Finished {
  /** Undefined when there was no verdict to post. */
  readonly posted?: Posted;
  /** The record written; undefined when none was (no source, not posted, or it could not be built). */
  readonly evidence?: EvidenceRecord;
}

let stackSinks: (() => readonly EvidenceSink[]) | undefined;

/**
 * Makes the stack's sinks the default of every record this process writes. shared/sinks.ts calls it
 * when it loads, so only a bundle that imports it carries the evidence store, metrics and SNS clients
 * (the DLQ consumer, which writes no record, does not), as with `registerClients`.
 */
export function registerStackSinks(sinks: () => readonly EvidenceSink[]): void {
  stackSinks = sinks;
}

/** Posts the verdict, writes the evidence record and runs the sinks: the one tail of a validation. */
export async function finishValidation(input: FinishInput, deps: FinishDeps): Promise<Finished> {
  const log = deps.logger ?? defaultLogger;
  let posted: Posted | undefined;
  if (input.verdict) {
    const post = deps.postVerdict ?? postVerdict;
    posted = input.dryRun
      ? 'dry-run'
      : await post(deps.clients.backup, input.restoreJobId, input.verdict.verdict, input.verdict.message, {
          ...(input.abortSignal ? { abortSignal: input.abortSignal } : {}),
          ...(input.knownValidationStatus !== undefined
            ? { knownValidationStatus: input.knownValidationStatus }
            : {}),
        });
  }
  if (!input.evidence) return { posted };
  if (input.recordOnlyIfPosted && input.verdict && posted !== 'posted') return { posted };

  const record = await buildRecord(input, input.evidence, posted, deps, log);
  if (!record) return { posted };
  const sinks = deps.sinks ?? stackSinks?.();
  if (!sinks) {
    log.error(
      'evidence record not stored: no sinks registered (import shared/sinks where records are written)',
      {
        restoreJobId: input.restoreJobId,
      },
    );
    return { posted, evidence: record };
  }
  for (const sink of sinks) {
    try {
      await sink(record, { clients: deps.clients, settings: settingsOf(deps) });
    } catch (err) {
      if (deps.sinkErrors === 'throw') throw err;
      log.warn('evidence sink failed', { restoreJobId: input.restoreJobId, reason: reasonOf(err) });
    }
  }
  return { posted, evidence: record };
}

const settingsOf = (deps: FinishDeps): EvidenceSettings => deps.settings ?? runtimeSettings();

async function buildRecord(
  input: FinishInput,
  source: EvidenceSource,
  posted: Posted | undefined,
  deps: FinishDeps,
  log: Logger,
): Promise<EvidenceRecord | undefined> {
  const reported = posted === 'posted';
  const mode = source.kind === 'run' && source.job.local ? 'local' : input.dryRun ? 'dry-run' : 'lambda';
  const codeVersion = settingsOf(deps).codeVersion;
  switch (source.kind) {
    case 'run':
      return buildEvidence({
        job: source.job,
        run: source.run,
        validator: source.validator,
        profile: source.profile,
        reported,
        mode,
        codeVersion,
      });
    case 'listing':
      return buildListedJobEvidence({
        job: source.job,
        plan: source.plan,
        verdict: source.verdict,
        message: source.message,
        reported,
        at: source.at,
        notes: source.notes,
        codeVersion,
      });
    case 'hand-off': {
      const verdict = input.verdict;
      if (!verdict) throw new TypeError('a hand-off is finished with the verdict of the work handed off');
      // The verdict is posted by now: a job that cannot be read again costs the record, never the step.
      let job: RestoreJob;
      try {
        job = await loadRestoreJob(deps.clients.backup, input.restoreJobId);
      } catch (err) {
        log.warn('evidence of the final verdict not stored', {
          restoreJobId: input.restoreJobId,
          validator: source.validator,
          reason: reasonOf(err),
        });
        return undefined;
      }
      return buildEvidence({
        job,
        run: {
          verdict: { verdict: verdict.verdict, message: verdict.message, checks: verdict.checks ?? [] },
          results: verdict.checks ?? [],
          notes: source.notes ?? {},
          startedAt: source.startedAt,
          finishedAt: new Date(),
          ...(source.objectives ? { objectives: source.objectives } : {}),
        },
        validator: source.validator,
        reported,
        mode,
        codeVersion,
      });
    }
  }
}
