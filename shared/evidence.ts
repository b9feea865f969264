/**
 * The evidence record: one JSON document per validation, what an auditor reads. Written to local files
 * (CLI `--evidence DIR`, the demo) or to the stack's evidence store (S3 + DynamoDB index).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreJobsListMember } from '@aws-sdk/client-backup';
import type { CheckResult } from './checks';
import type { Clients } from './clients';
import type { RuntimeSettings } from './env';
import type { RestoreJob } from './job';
import {
  judgeObjectives,
  type ObjectivesEvidence,
  restoreDurationSeconds as restoreDuration,
} from './objectives';
import type { ValidationRun } from './validator';

export const EVIDENCE_SCHEMA_VERSION = 1;

export interface EvidenceRecord {
  readonly schemaVersion: typeof EVIDENCE_SCHEMA_VERSION;
  readonly restoreJobId: string;
  readonly resourceType: string;
  readonly validator: string;
  readonly profile?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly restoreTestingPlanArn?: string;
  readonly restoreTestingPlanName?: string;
  readonly sourceResourceArn?: string;
  readonly createdResourceArn?: string;
  readonly recoveryPointArn?: string;
  /** ISO 8601. */
  readonly recoveryPointCreationDate?: string;
  readonly restoreStartedAt?: string;
  readonly restoreCompletedAt?: string;
  /** Measured restore time (RTO evidence), seconds. */
  readonly restoreDurationSeconds?: number;
  /** Data age at the recovery point (RPO evidence), minutes, where a freshness check measured it. */
  readonly dataAgeMinutes?: number;
  /** The restore job's own status when it is not COMPLETED (FAILED, ABORTED): set by the reconciler. */
  readonly restoreJobStatus?: string;
  /** SUCCESSFUL/FAILED as decided; TIMED_OUT when the reconciler saw the window close; DEFERRED when handed to Step Functions. */
  readonly verdict: 'SUCCESSFUL' | 'FAILED' | 'TIMED_OUT' | 'DEFERRED';
  readonly message: string;
  readonly checks: readonly CheckResult[];
  readonly validationStartedAt: string;
  readonly validationFinishedAt: string;
  readonly validationDurationMs: number;
  /** Whether the verdict was posted with PutRestoreValidationResult. */
  readonly reported: boolean;
  readonly mode: 'lambda' | 'local' | 'dry-run' | 'reconciler';
  readonly codeVersion: string;
  /** The recovery objectives and whether this restore met them (met: null when nothing measured it). */
  readonly objectives?: ObjectivesEvidence;
  /** Other measured facts (provenBy counts, sample seed, helper instance id, …). */
  readonly notes: Readonly<Record<string, unknown>>;
}

/** What a sink may use besides the record: the invocation's clients and the stack's settings. */
export interface EvidenceSinkDeps {
  readonly clients: Clients;
  readonly settings: EvidenceSettings;
}

/** The settings an evidence record and the stack's sinks need: the code version, where to store, whom to tell. */
export type EvidenceSettings = Pick<RuntimeSettings, 'codeVersion'> &
  Partial<Pick<RuntimeSettings, 'evidenceBucket' | 'evidenceTable' | 'evidencePrefix' | 'alarmTopicArn'>>;

/** Receives the evidence record after a verdict (evidence store, metrics, notifications). */
export type EvidenceSink = (record: EvidenceRecord, deps: EvidenceSinkDeps) => Promise<void>;

/** The record of one validation run (the lifecycle's, or a deferred one finished by Step Functions). */
export function buildEvidence(input: {
  job: RestoreJob;
  run: ValidationRun;
  validator: string;
  profile?: string;
  reported: boolean;
  mode: EvidenceRecord['mode'];
  codeVersion: string;
}): EvidenceRecord {
  const { job, run } = input;
  const iso = (d?: Date) => d?.toISOString();
  const restoreDurationSeconds = restoreDuration(job);
  const dataAge = run.notes.dataAgeMinutes;
  const dataAgeMinutes = typeof dataAge === 'number' ? dataAge : undefined;
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    restoreJobId: job.restoreJobId,
    resourceType: job.resourceType,
    validator: input.validator,
    profile: input.profile,
    accountId: job.accountId,
    region: job.region,
    restoreTestingPlanArn: job.restoreTestingPlanArn,
    restoreTestingPlanName: job.restoreTestingPlanName,
    sourceResourceArn: job.sourceResourceArn,
    createdResourceArn: job.createdResourceArn,
    recoveryPointArn: job.recoveryPointArn,
    recoveryPointCreationDate: iso(job.recoveryPointCreationDate),
    restoreStartedAt: iso(job.creationDate),
    restoreCompletedAt: iso(job.completionDate),
    restoreDurationSeconds,
    dataAgeMinutes,
    verdict: run.deferredTo ? 'DEFERRED' : run.verdict.verdict,
    message: run.deferredTo ? `handed to ${run.deferredTo}` : run.verdict.message,
    checks: run.results,
    validationStartedAt: run.startedAt.toISOString(),
    validationFinishedAt: run.finishedAt.toISOString(),
    validationDurationMs: run.finishedAt.getTime() - run.startedAt.getTime(),
    reported: input.reported,
    mode: input.mode,
    codeVersion: input.codeVersion,
    ...(run.objectives
      ? { objectives: judgeObjectives(run.objectives, { restoreDurationSeconds, dataAgeMinutes }) }
      : {}),
    notes: run.notes,
  };
}

/**
 * The record of a job the reconciler found in a ListRestoreJobs page and had to act on: no validation
 * ran (the window closed, the restore itself failed), so it holds no checks, and the plan named by
 * the pass stands in for the job's own.
 */
export function buildListedJobEvidence(input: {
  job: RestoreJobsListMember;
  plan: { readonly arn: string; readonly name: string };
  verdict: EvidenceRecord['verdict'];
  message: string;
  reported: boolean;
  /** The record's one instant: keep it stable between passes, so a repeated write lands on the same key. */
  at: Date;
  notes: Readonly<Record<string, unknown>>;
  codeVersion: string;
}): EvidenceRecord {
  const { job, plan } = input;
  const iso = (d: Date | undefined) => d?.toISOString();
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    restoreJobId: job.RestoreJobId ?? '',
    resourceType: job.ResourceType ?? '',
    validator: 'reconciler',
    accountId: job.AccountId,
    region: (job.CreatedResourceArn ?? plan.arn).split(':')[3] || undefined,
    restoreTestingPlanArn: plan.arn,
    restoreTestingPlanName: plan.name,
    sourceResourceArn: job.SourceResourceArn,
    createdResourceArn: job.CreatedResourceArn,
    recoveryPointArn: job.RecoveryPointArn,
    recoveryPointCreationDate: iso(job.RecoveryPointCreationDate),
    restoreStartedAt: iso(job.CreationDate),
    restoreCompletedAt: iso(job.CompletionDate),
    restoreDurationSeconds: restoreDuration({
      creationDate: job.CreationDate,
      completionDate: job.CompletionDate,
    }),
    restoreJobStatus: job.Status,
    verdict: input.verdict,
    message: input.message,
    checks: [],
    validationStartedAt: input.at.toISOString(),
    validationFinishedAt: input.at.toISOString(),
    validationDurationMs: 0,
    reported: input.reported,
    mode: 'reconciler',
    codeVersion: input.codeVersion,
    notes: input.notes,
  };
}

/** Where an evidence record is kept: `<date>/<restoreJobId>.json`. */
export function evidenceKey(record: Pick<EvidenceRecord, 'restoreJobId' | 'validationFinishedAt'>): string {
  const day = record.validationFinishedAt.slice(0, 10);
  return `${day}/${record.restoreJobId}.json`;
}

/** The bytes an evidence record is stored as (S3 object and local file alike): what its SHA-256 covers. */
export function evidenceBody(record: EvidenceRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Writes one record under `dir` and returns the file path. */
export function writeEvidenceFile(dir: string, record: EvidenceRecord): string {
  const file = join(dir, evidenceKey(record));
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, evidenceBody(record));
  return file;
}
