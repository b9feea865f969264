/**
 * One reconciler pass. EventBridge delivery is best effort, validators can crash, and AWS Backup
 * deletes the restored resource when the validation window closes (no verdict → TIMED_OUT, silently).
 * This pass makes sure none of that goes unnoticed:
 *
 *  1. lists the restore jobs of the configured plans (`ListRestoreJobs` by plan ARN, created after
 *     now − look-back; list pages carry ValidationStatus, so a settled job costs no further call);
 *  2. a COMPLETED job with no validation status at all, past a grace period, without evidence: its
 *     event was missed → invoke the type's validator asynchronously with a synthesized event
 *     (claimed first in the evidence table, so two concurrent passes dispatch once);
 *  3. a COMPLETED job without a final status whose window closes within the margin → post FAILED with
 *     the reason (`finishValidation` re-reads ValidationStatus right before posting; a job that became
 *     final meanwhile is `already-final`, never posted twice, and keeps its own evidence);
 *  4. a restore job that FAILED (or was ABORTED) → evidence + notification, once (conditional write);
 *  5. compares every selection's protected resources with the jobs that ran → coverage report.
 *
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRestoreJobs.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
import {
  type BackupClient,
  GetRestoreTestingSelectionCommand,
  paginateListProtectedResources,
  paginateListRestoreJobs,
  paginateListRestoreTestingPlans,
  paginateListRestoreTestingSelections,
  type RestoreJobsListMember,
  type RestoreTestingSelectionForList,
} from '@aws-sdk/client-backup';
import pLimit from 'p-limit';
import { reasonOf } from '../../shared/errors';
import type { EvidenceRecord } from '../../shared/evidence';
import type {
  CoverageReport,
  EvidenceStore,
  UntestedResource,
  UnwatchedRestore,
} from '../../shared/evidence-store';
import { planNameFromArn } from '../../shared/job';
import { isFinalValidationStatus, type PostableStatus } from '../../shared/verdict/index';
import { closeWindow, dispatchMissed, lower, recordRestoreFailure, recordWindowClosed } from './jobs';
import type { ReconcilerSettings } from './settings';

export { synthesizeEvent } from './jobs';

const RESTORE_FAILED = new Set(['FAILED', 'ABORTED']);

/** Minimal logger shape (Powertools Logger fits). */
export interface ReconcilerLogger {
  info(message: string, ...attrs: Record<string, unknown>[]): void;
  warn(message: string, ...attrs: Record<string, unknown>[]): void;
  error(message: string, ...attrs: Record<string, unknown>[]): void;
}

/** The synthesized event a validator receives for a missed job: the same shape EventBridge delivers. */
export interface SynthesizedRestoreEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Restore Job State Change';
  readonly source: 'aws.backup';
  readonly account?: string;
  readonly time: string;
  readonly region?: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

export interface ReconcilerDeps {
  readonly backup: BackupClient;
  /** Evidence store; without it the reconciler cannot tell missed events from running ones by evidence, nor dedupe dispatches. */
  readonly store?: EvidenceStore;
  /** Invokes a validator asynchronously (Lambda `InvocationType: Event`). */
  readonly dispatch: (functionName: string, event: SynthesizedRestoreEvent) => Promise<void>;
  /** How a verdict is posted. @default shared/verdict `postVerdict` (re-reads ValidationStatus first) */
  readonly postVerdict?: (
    backup: BackupClient,
    restoreJobId: string,
    status: PostableStatus,
    message: string,
  ) => Promise<'posted' | 'already-final'>;
  /** Called for every record the reconciler writes (notification + metrics), after it was stored. */
  readonly onEvidence?: (record: EvidenceRecord, location?: string) => Promise<void>;
  readonly logger?: ReconcilerLogger;
  /** A Backup client for another region of the same account (for `watchRegions`). */
  readonly backupIn?: (region: string) => BackupClient;
  /**
   * Central account: assumes a member account's role and returns a Backup client factory for its
   * regions (for `memberRoleArns`); see members.ts.
   */
  readonly memberBackup?: (roleArn: string) => Promise<(region: string) => BackupClient>;
  readonly now?: () => Date;
  /** Epoch ms; no new action starts after it (the Lambda's own timeout minus a margin). */
  readonly deadline?: number;
}

export type JobDecision =
  | 'settled' // final ValidationStatus already
  | 'in-flight' // restore still running, or a validation is under way within its window
  | 'recent' // completed less than the grace period ago: the event-driven validator should have it
  | 'dispatched' // event missed: validator invoked
  | 'dispatch-claimed-elsewhere' // another reconciler pass dispatched it
  | 'has-evidence' // validated (or deferred) but not final yet: left to its window
  | 'no-validator' // no validator function for the type: left to the window-closing rule
  | 'window-closing-posted' // FAILED posted because the window is about to close
  | 'already-final' // it became final right before we posted
  | 'window-closed-recorded' // the window closed unseen (reconciler down): TIMED_OUT evidence + notification, once
  | 'window-closed-known' // recorded by an earlier pass, or the job has other evidence
  | 'restore-failed-recorded' // restore job failed: evidence + notification written
  | 'restore-failed-known' // recorded by an earlier pass
  | 'skipped-deadline' // out of time for this pass
  | 'error';

export interface ReconcileResult {
  readonly plans: number;
  readonly jobs: number;
  readonly decisions: Readonly<Partial<Record<JobDecision, number>>>;
  /** Per-job decisions that were actions (not settled/in-flight/recent), for logs and tests. */
  readonly actions: ReadonlyArray<{ restoreJobId: string; decision: JobDecision; reason?: string }>;
  readonly coverage: CoverageReport;
  readonly coverageKey?: string;
  /** Central account only: one entry per member account looked at. */
  readonly members: readonly MemberResult[];
}

/** A restore test of a member account left without a verdict, found by the central reconciler. */
export type MemberUnwatchedRestore = UnwatchedRestore & { readonly account: string };

/** What the central reconciler found in one member account (report only). */
export interface MemberResult {
  readonly account: string;
  readonly roleArn: string;
  readonly regions: readonly string[];
  readonly unwatched: readonly MemberUnwatchedRestore[];
  /** Why the account could not be checked (AssumeRole refused, ListRestoreJobs denied, …). */
  readonly error?: string;
}

export interface PlanInfo {
  readonly arn: string;
  readonly name: string;
  readonly selections: RestoreTestingSelectionForList[];
  /** Smallest validation window per resource type (conservative when several selections match). */
  readonly windowHoursByType: Map<string, number>;
}

/** Runs one reconciler pass. Throws only when it cannot list jobs at all; per-job failures are counted. */
export async function reconcile(
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
): Promise<ReconcileResult> {
  const now = (deps.now ?? (() => new Date()))();
  const log = deps.logger;
  const decisions: Partial<Record<JobDecision, number>> = {};
  const actions: Array<{ restoreJobId: string; decision: JobDecision; reason?: string }> = [];
  const decide = (job: RestoreJobsListMember, decision: JobDecision, reason?: string) => {
    decisions[decision] = (decisions[decision] ?? 0) + 1;
    if (!['settled', 'in-flight', 'recent'].includes(decision))
      actions.push({ restoreJobId: job.RestoreJobId ?? '', decision, reason });
  };

  const plans = await loadPlans(settings, deps.backup);
  const createdAfter = new Date(now.getTime() - settings.lookbackHours * 3_600_000);
  const jobsByPlan = new Map<string, RestoreJobsListMember[]>();
  let jobCount = 0;
  for (const plan of plans) {
    const jobs = await listJobs(deps.backup, plan.arn, createdAfter);
    jobsByPlan.set(plan.arn, jobs);
    jobCount += jobs.length;
  }

  // Classify without any per-job call; collect the candidates whose evidence we must look up.
  type Candidate = {
    job: RestoreJobsListMember;
    plan: PlanInfo;
    kind: 'missed' | 'closing' | 'closed' | 'restore-failed';
    closesAt?: Date;
  };
  const candidates: Candidate[] = [];
  for (const plan of plans) {
    for (const job of jobsByPlan.get(plan.arn) ?? []) {
      const status = (job.Status ?? '').toUpperCase();
      if (RESTORE_FAILED.has(status)) {
        candidates.push({ job, plan, kind: 'restore-failed' });
        continue;
      }
      if (status !== 'COMPLETED') {
        decide(job, 'in-flight');
        continue;
      }
      if (isFinalValidationStatus(job.ValidationStatus)) {
        decide(job, 'settled');
        continue;
      }
      const completed = job.CompletionDate ?? job.CreationDate;
      const window = plan.windowHoursByType.get(lower(job.ResourceType));
      const closesAt = completed && window ? new Date(completed.getTime() + window * 3_600_000) : undefined;
      const margin = settings.closeMarginMinutes * 60_000;
      if (closesAt && now.getTime() >= closesAt.getTime() + margin) {
        // Long past its window: posting now would be refused or meaningless; record it instead.
        candidates.push({ job, plan, kind: 'closed', closesAt });
      } else if (closesAt && now.getTime() >= closesAt.getTime() - margin) {
        candidates.push({ job, plan, kind: 'closing', closesAt });
      } else if (job.ValidationStatus) {
        decide(job, 'in-flight'); // VALIDATING: a validator (or Step Functions) is on it
      } else if (!completed || now.getTime() - completed.getTime() < settings.graceMinutes * 60_000) {
        decide(job, 'recent');
      } else {
        candidates.push({ job, plan, kind: 'missed', closesAt });
      }
    }
  }

  const lookups = candidates.filter((c) => c.kind !== 'closing').map((c) => c.job.RestoreJobId ?? '');
  const withEvidence =
    deps.store?.table && lookups.length > 0 ? await deps.store.existing(lookups) : new Set<string>();

  const limit = pLimit(settings.concurrency);
  await Promise.all(
    candidates.map((c) =>
      limit(async () => {
        const id = c.job.RestoreJobId ?? '';
        if (deps.deadline !== undefined && Date.now() >= deps.deadline)
          return decide(c.job, 'skipped-deadline');
        try {
          if (c.kind === 'closing')
            return decide(
              c.job,
              ...(await closeWindow(c.job, c.plan, c.closesAt ?? now, now, settings, deps)),
            );
          if (c.kind === 'closed') {
            if (withEvidence.has(id)) return decide(c.job, 'window-closed-known');
            return decide(
              c.job,
              await recordWindowClosed(c.job, c.plan, c.closesAt ?? now, now, settings, deps),
            );
          }
          if (c.kind === 'restore-failed') {
            if (withEvidence.has(id)) return decide(c.job, 'restore-failed-known');
            return decide(c.job, await recordRestoreFailure(c.job, c.plan, now, settings, deps));
          }
          if (withEvidence.has(id)) return decide(c.job, 'has-evidence');
          return decide(c.job, ...(await dispatchMissed(c.job, c.plan, settings, deps)));
        } catch (err) {
          log?.error('reconciler action failed', { restoreJobId: id, kind: c.kind, reason: reasonOf(err) });
          return decide(c.job, 'error', reasonOf(err));
        }
      }),
    ),
  );

  const members = await checkMembers(settings, deps, createdAfter, now);
  const coverage = {
    ...(await checkCoverage(plans, jobsByPlan, settings, deps.backup, now)),
    unwatched: [
      ...(await findUnwatched(settings, deps, createdAfter, now)),
      ...members.flatMap((m) => m.unwatched),
    ],
  };
  let coverageKey: string | undefined;
  if (deps.store) {
    try {
      coverageKey = await deps.store.putCoverage(coverage);
    } catch (err) {
      log?.warn('coverage report not stored', { reason: reasonOf(err) });
    }
  }
  for (const u of coverage.unwatched.slice(0, 50)) {
    log?.warn('restore test in a region without a validator', {
      ...('account' in u ? { account: u.account } : {}),
      region: u.region,
      restoreJobId: u.restoreJobId,
      status: u.status,
    });
  }
  for (const u of coverage.untested.slice(0, 50)) {
    log?.warn('resource got no restore job', {
      resourceArn: u.resourceArn,
      plan: u.restoreTestingPlanName,
      reason: u.reason,
    });
  }
  log?.info('reconciler pass finished', {
    plans: plans.length,
    jobs: jobCount,
    ...decisions,
    untested: coverage.untested.length,
  });
  return { plans: plans.length, jobs: jobCount, decisions, actions, coverage, coverageKey, members };
}

/**
 * Restore-test jobs in regions that have no stack: every one that completed without a final verdict
 * (past the grace period) or failed to restore. Reported, not acted on: no validator runs there.
 */
async function findUnwatched(
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
  createdAfter: Date,
  now: Date,
): Promise<UnwatchedRestore[]> {
  if (settings.watchRegions.length === 0) return [];
  if (!deps.backupIn)
    throw new Error('watchRegions is set but no per-region Backup client factory was given');
  return listUnwatched(settings.watchRegions, deps.backupIn, settings, createdAfter, now);
}

/**
 * The central account's report-only pass over its member accounts: assume each member's role, list
 * the restore tests of its regions, report those without a verdict. Nothing is posted or invoked
 * there (the member stack's own reconciler does that). One account's failure is reported for that
 * account; the others are still checked.
 */
async function checkMembers(
  settings: ReconcilerSettings,
  deps: ReconcilerDeps,
  createdAfter: Date,
  now: Date,
): Promise<MemberResult[]> {
  const results: MemberResult[] = [];
  if (settings.memberRoleArns.length === 0) return results;
  if (!deps.memberBackup)
    throw new Error('member role ARNs are set but no member Backup client factory was given');
  const regions = settings.memberRegions;
  for (const roleArn of settings.memberRoleArns) {
    const account = roleArn.split(':')[4] ?? '';
    if (deps.deadline !== undefined && Date.now() >= deps.deadline) {
      results.push({
        account,
        roleArn,
        regions,
        unwatched: [],
        error: 'not checked: the pass ran out of time',
      });
      continue;
    }
    try {
      const backupIn = await deps.memberBackup(roleArn);
      const found = await listUnwatched(regions, backupIn, settings, createdAfter, now);
      results.push({ account, roleArn, regions, unwatched: found.map((u) => ({ ...u, account })) });
    } catch (err) {
      const error = `member account ${account} not checked (${roleArn}): ${reasonOf(err)}`;
      deps.logger?.error('member account not checked', { account, roleArn, reason: reasonOf(err) });
      results.push({ account, roleArn, regions, unwatched: [], error });
    }
  }
  return results;
}

/** Restore tests of these regions that completed without a final verdict (past the grace period) or failed to restore. */
async function listUnwatched(
  regions: readonly string[],
  backupIn: (region: string) => BackupClient,
  settings: ReconcilerSettings,
  createdAfter: Date,
  now: Date,
): Promise<UnwatchedRestore[]> {
  const out: UnwatchedRestore[] = [];
  for (const region of regions) {
    const backup = backupIn(region);
    for await (const page of paginateListRestoreJobs(
      { client: backup },
      { ByCreatedAfter: createdAfter, MaxResults: 1000 },
    )) {
      for (const job of page.RestoreJobs ?? []) {
        const planArn = job.CreatedBy?.RestoreTestingPlanArn;
        if (!planArn) continue; // an on-demand restore, not a restore test
        const status = (job.Status ?? '').toUpperCase();
        const completed = job.CompletionDate ?? job.CreationDate;
        const unvalidated =
          status === 'COMPLETED' &&
          !isFinalValidationStatus(job.ValidationStatus) &&
          (!completed || now.getTime() - completed.getTime() >= settings.graceMinutes * 60_000);
        if (!unvalidated && !RESTORE_FAILED.has(status)) continue;
        out.push({
          region,
          restoreJobId: job.RestoreJobId ?? '',
          resourceType: job.ResourceType ?? '',
          sourceResourceArn: job.SourceResourceArn,
          restoreTestingPlanArn: planArn,
          status,
          validationStatus: job.ValidationStatus,
          completedAt: completed?.toISOString(),
        });
      }
    }
  }
  return out;
}

async function loadPlans(settings: ReconcilerSettings, backup: BackupClient): Promise<PlanInfo[]> {
  // Plan ARN → name. Listed plans come with their name; configured ARNs are parsed (planNameFromArn).
  const named = new Map<string, string>(settings.planArns.map((arn) => [arn, planNameFromArn(arn) ?? arn]));
  if (named.size === 0) {
    for await (const out of paginateListRestoreTestingPlans({ client: backup }, {}))
      for (const p of out.RestoreTestingPlans ?? [])
        if (p.RestoreTestingPlanArn)
          named.set(
            p.RestoreTestingPlanArn,
            p.RestoreTestingPlanName || planNameFromArn(p.RestoreTestingPlanArn) || p.RestoreTestingPlanArn,
          );
  }
  const plans: PlanInfo[] = [];
  for (const [arn, name] of named) {
    const selections: RestoreTestingSelectionForList[] = [];
    const windowHoursByType = new Map<string, number>();
    for await (const out of paginateListRestoreTestingSelections(
      { client: backup },
      { RestoreTestingPlanName: name },
    )) {
      for (const s of out.RestoreTestingSelections ?? []) {
        const type = lower(s.ProtectedResourceType);
        if (s.ValidationWindowHours && s.ValidationWindowHours > 0) {
          windowHoursByType.set(
            type,
            Math.min(windowHoursByType.get(type) ?? Infinity, s.ValidationWindowHours),
          );
        }
        selections.push(s);
      }
    }
    plans.push({ arn, name, selections, windowHoursByType });
  }
  return plans;
}

async function listJobs(
  backup: BackupClient,
  planArn: string,
  createdAfter: Date,
): Promise<RestoreJobsListMember[]> {
  const jobs: RestoreJobsListMember[] = [];
  for await (const out of paginateListRestoreJobs(
    { client: backup },
    { ByRestoreTestingPlanArn: planArn, ByCreatedAfter: createdAfter, MaxResults: 1000 },
  ))
    jobs.push(...(out.RestoreJobs ?? []));
  return jobs;
}

async function checkCoverage(
  plans: PlanInfo[],
  jobsByPlan: Map<string, RestoreJobsListMember[]>,
  settings: ReconcilerSettings,
  backup: BackupClient,
  now: Date,
): Promise<CoverageReport> {
  const untested: UntestedResource[] = [];
  const notEvaluated: string[] = [];
  let protectedResources: Map<string, { type: string; lastBackup?: Date }> | undefined;
  const loadProtected = async () => {
    if (protectedResources) return protectedResources;
    protectedResources = new Map();
    for await (const out of paginateListProtectedResources({ client: backup }, { MaxResults: 1000 }))
      for (const r of out.Results ?? []) {
        if (r.ResourceArn)
          protectedResources.set(r.ResourceArn, {
            type: lower(r.ResourceType),
            lastBackup: r.LastBackupTime,
          });
      }
    return protectedResources;
  };
  const since = new Date(now.getTime() - settings.lookbackHours * 3_600_000);

  for (const plan of plans) {
    const tested = new Set((jobsByPlan.get(plan.arn) ?? []).map((j) => j.SourceResourceArn).filter(Boolean));
    for (const listed of plan.selections) {
      const name = listed.RestoreTestingSelectionName ?? '';
      const { RestoreTestingSelection: sel } = await backup.send(
        new GetRestoreTestingSelectionCommand({
          RestoreTestingPlanName: plan.name,
          RestoreTestingSelectionName: name,
        }),
      );
      if (!sel) continue;
      const type = lower(sel.ProtectedResourceType);
      const conditions = sel.ProtectedResourceConditions;
      const hasConditions =
        (conditions?.StringEquals?.length ?? 0) + (conditions?.StringNotEquals?.length ?? 0) > 0;
      const explicit = (sel.ProtectedResourceArns ?? []).filter((a) => a !== '*');
      const all = await loadProtected();
      let candidates: string[];
      if (explicit.length > 0) candidates = explicit;
      else if (hasConditions) {
        // Tag conditions would need a tag look-up per resource; say so instead of guessing.
        notEvaluated.push(`${plan.name}/${name}`);
        continue;
      } else candidates = [...all].filter(([, r]) => r.type === type).map(([arn]) => arn);
      for (const arn of candidates) {
        if (tested.has(arn)) continue;
        const known = all.get(arn);
        const reason = !known
          ? 'not a protected resource: AWS Backup has no recovery point for it'
          : !known.lastBackup || known.lastBackup < since
            ? `no recovery point in the last ${settings.lookbackHours} h (last backup ${known.lastBackup?.toISOString() ?? 'never'})`
            : `no restore job in the last ${settings.lookbackHours} h although a recovery point exists (check the selection's recovery point types and metadata overrides)`;
        untested.push({
          resourceArn: arn,
          resourceType: sel.ProtectedResourceType ?? '',
          restoreTestingPlanName: plan.name,
          restoreTestingSelectionName: name,
          reason,
        });
      }
    }
  }
  return { generatedAt: now.toISOString(), lookbackHours: settings.lookbackHours, untested, notEvaluated };
}
