/**
 * What the reconciler does for one restore job once a pass has decided: post FAILED before the window
 * closes, record a window that closed unseen or a restore that failed (once), or dispatch the type's
 * validator with the event EventBridge would have delivered. Every post and record goes through
 * `finishValidation`, the tail every validation ends in.
 */
import type { RestoreJobsListMember } from '@aws-sdk/client-backup';
import { createClients } from '../../shared/clients';
import type { EvidenceSink } from '../../shared/evidence';
import { validatorTypeFor } from '../../shared/resource-types';
import { type EvidenceSource, finishValidation } from '../../shared/verdict/index';
import type { JobDecision, PlanInfo, ReconcilerDeps, SynthesizedRestoreEvent } from './reconcile';
import type { ReconcilerSettings } from './settings';

export const lower = (s: string | undefined) => (s ?? '').toLowerCase();

/** The record of a job the reconciler acts on (the plan's, not a validation's: no checks ran). */
type ListedRecord = Pick<
  Extract<EvidenceSource, { kind: 'listing' }>,
  'verdict' | 'message' | 'at' | 'notes'
>;

/**
 * Finishes what the reconciler decided for a job: posts the verdict when there is one (the record is
 * written only when this pass posted it), writes the record to the evidence store, then hands it to
 * `onEvidence`. With `onlyIfAbsent`, a job whose record is indexed already is left alone: `known`.
 * Any failure throws, so the pass counts the job as an error (and the Lambda fails, alarmed).
 */
async function finishJob(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  input: { verdict?: { verdict: 'FAILED'; message: string }; record: ListedRecord; onlyIfAbsent?: boolean },
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<{ posted?: string; known: boolean }> {
  let known = false;
  const store: EvidenceSink = async (record) => {
    const put = deps.store
      ? await deps.store.put(record, input.onlyIfAbsent ? { onlyIfAbsent: true } : {})
      : undefined;
    if (put?.index === 'exists') {
      known = true;
      return;
    }
    await deps.onEvidence?.(record, put?.key);
  };
  const { posted } = await finishValidation(
    {
      restoreJobId: job.RestoreJobId ?? '',
      ...(input.verdict ? { verdict: input.verdict } : {}),
      dryRun: settings.dryRun,
      recordOnlyIfPosted: true,
      evidence: { kind: 'listing', job, plan: { arn: plan.arn, name: plan.name }, ...input.record },
    },
    {
      clients: createClients({}, { backup: deps.backup }),
      settings: { codeVersion: settings.codeVersion },
      sinks: [store],
      sinkErrors: 'throw',
      ...(deps.postVerdict ? { postVerdict: deps.postVerdict } : {}),
    },
  );
  return { posted, known };
}

export async function closeWindow(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  closesAt: Date,
  now: Date,
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<[JobDecision, string?]> {
  const why =
    job.ValidationStatus === 'VALIDATING'
      ? 'the validation started but did not finish'
      : 'no validation ran (the event was missed or the validator failed before reporting)';
  const message = `FAILED by the reconciler: no verdict before the validation window closes at ${closesAt.toISOString()}; ${why}.`;
  const { posted } = await finishJob(
    job,
    plan,
    {
      verdict: { verdict: 'FAILED', message },
      record: {
        verdict: 'TIMED_OUT',
        message,
        at: now,
        notes: {
          postedStatus: 'FAILED',
          windowClosesAt: closesAt.toISOString(),
          validationStatusSeen: job.ValidationStatus ?? null,
        },
      },
    },
    settings,
    deps,
  );
  if (posted === 'already-final') return ['already-final'];
  return ['window-closing-posted', why];
}

export async function recordWindowClosed(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  closesAt: Date,
  now: Date,
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<JobDecision> {
  const record: ListedRecord = {
    verdict: 'TIMED_OUT',
    message: `no verdict before the validation window closed at ${closesAt.toISOString()}; the reconciler did not see the job in time to post FAILED (was it running?)`,
    at: closesAt, // deterministic key: repeated passes write the same object
    notes: { windowClosesAt: closesAt.toISOString(), validationStatusSeen: job.ValidationStatus ?? null },
  };
  const seenSince = new Date(closesAt.getTime() + settings.closeMarginMinutes * 60_000);
  return recordOnce(
    job,
    plan,
    record,
    { now, seenSince },
    ['window-closed-known', 'window-closed-recorded'],
    settings,
    deps,
  );
}

/**
 * Records a job's outcome once. With the index, a record already there is `known`. Without one,
 * nothing remembers what was reported, so only what is new since the previous pass (`seenSince`
 * within one interval) is recorded and notified.
 */
async function recordOnce<K extends JobDecision, R extends JobDecision>(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  record: ListedRecord,
  when: { readonly now: Date; readonly seenSince: Date },
  [known, recorded]: readonly [K, R],
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<K | R> {
  if (deps.store?.table) {
    const r = await finishJob(job, plan, { record, onlyIfAbsent: true }, settings, deps);
    return r.known ? known : recorded;
  }
  if (when.now.getTime() - when.seenSince.getTime() > settings.intervalMinutes * 60_000) return known;
  await finishJob(job, plan, { record }, settings, deps);
  return recorded;
}

export async function recordRestoreFailure(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  now: Date,
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<JobDecision> {
  const ended = job.CompletionDate ?? job.CreationDate ?? now;
  const record: ListedRecord = {
    verdict: 'FAILED',
    message: `the restore itself ${lower(job.Status)}: ${job.StatusMessage ?? 'no status message'}`.slice(
      0,
      1000,
    ),
    // The record's key must not change between passes, so a repeated write lands on the same object.
    at: ended,
    notes: {},
  };
  return recordOnce(
    job,
    plan,
    record,
    { now, seenSince: ended },
    ['restore-failed-known', 'restore-failed-recorded'],
    settings,
    deps,
  );
}

export async function dispatchMissed(
  job: RestoreJobsListMember,
  plan: PlanInfo,
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<[JobDecision, string?]> {
  const id = job.RestoreJobId ?? '';
  const type = validatorTypeFor(job.ResourceType ?? '');
  const fn = type ? settings.validatorFunctions[type] : undefined;
  if (!fn) return ['no-validator', `no validator function configured for ${job.ResourceType}`];
  if (deps.store?.table && !(await deps.store.claim(`dispatch#${id}`, settings.dispatchClaimMinutes * 60))) {
    return ['dispatch-claimed-elsewhere'];
  }
  await deps.dispatch(fn, synthesizeEvent(job, plan));
  return ['dispatched', fn];
}

/** The `Restore Job State Change` (COMPLETED) event EventBridge would have delivered for this job. */
export function synthesizeEvent(job: RestoreJobsListMember, plan: { arn: string }): SynthesizedRestoreEvent {
  const iso = (d: Date | undefined) => d?.toISOString();
  const region = (job.CreatedResourceArn ?? plan.arn).split(':')[3] || undefined;
  return {
    version: '0',
    id: `reconciler-${job.RestoreJobId}`,
    'detail-type': 'Restore Job State Change',
    source: 'aws.backup',
    account: job.AccountId,
    time: (job.CompletionDate ?? new Date()).toISOString(),
    region,
    resources: job.CreatedResourceArn ? [job.CreatedResourceArn] : [],
    detail: {
      restoreJobId: job.RestoreJobId,
      backupVaultArn: job.BackupVaultArn,
      recoveryPointArn: job.RecoveryPointArn,
      sourceResourceArn: job.SourceResourceArn,
      backupSizeInBytes: job.BackupSizeInBytes === undefined ? undefined : String(job.BackupSizeInBytes),
      creationDate: iso(job.CreationDate),
      completionDate: iso(job.CompletionDate),
      iamRoleArn: job.IamRoleArn,
      resourceType: job.ResourceType,
      status: 'COMPLETED',
      createdResourceArn: job.CreatedResourceArn,
      isParent: job.IsParent ?? false,
      restoreTestingPlanArn: job.CreatedBy?.RestoreTestingPlanArn ?? plan.arn,
      /** Marks the event as synthesized by the reconciler (validators treat it like any other). */
      synthesizedBy: 'restore-validation-reconciler',
    },
  };
}
