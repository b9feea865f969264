/**
 * Where evidence goes after a verdict in Lambda, each only when the stack configured it: the evidence
 * store (S3 object + DynamoDB index), CloudWatch metrics (EMF on stdout), and the SNS notification for
 * FAILED and TIMED_OUT verdicts, which links the stored evidence. One sink so the notification can name
 * the object the store just wrote; a failure of one part does not stop the others.
 */

import { SNSClient } from '@aws-sdk/client-sns';
import { type Clients, registerClients } from './clients';
import type { RuntimeSettings } from './env';
import { reasonOf } from './errors';
import { buildEvidence, type EvidenceRecord } from './evidence';
import { putEvidence } from './evidence-store';
import { loadRestoreJob } from './job';
import type { EvidenceSink } from './lifecycle';
import { logger } from './logger';
import { recordValidationMetrics } from './metrics';
import { notifyVerdict } from './notify';
import type { Objectives } from './objectives';
import type { Verdict } from './verdict';

registerClients({ sns: SNSClient });

export const stackEvidenceSink: EvidenceSink = async (record, { clients, settings }) => {
  let location: string | undefined;
  try {
    const put = await putEvidence(clients, settings, record);
    if (put) location = `s3://${settings.evidenceBucket}/${put.key}`;
  } catch (err) {
    logger.warn('evidence not stored', { reason: reasonOf(err) });
  }
  try {
    recordValidationMetrics(record);
  } catch (err) {
    logger.warn('metrics not recorded', { reason: reasonOf(err) });
  }
  await notifyVerdict(clients.sns, settings.alarmTopicArn, record, location);
};

export function defaultEvidenceSinks(): EvidenceSink[] {
  return [stackEvidenceSink];
}

export interface FinalVerdictEvidence {
  readonly restoreJobId: string;
  /** The validator that deferred (`ebs`, `s3`). */
  readonly validator: string;
  readonly verdict: Verdict;
  /** Facts for the auditor beside the checks (the helper instance, the comparison counts). */
  readonly notes?: Readonly<Record<string, unknown>>;
  /** When the deferred work started (the record's validationStartedAt). */
  readonly startedAt: Date;
  /** The profile's recovery objectives (ValidationRun.objectives at hand-off), judged into the record. */
  readonly objectives?: Objectives;
  /** What postVerdict returned, or that nothing was posted (dry run). */
  readonly posted: string;
  readonly dryRun: boolean;
  readonly clients: Clients;
  readonly settings: RuntimeSettings;
  /** @default defaultEvidenceSinks() */
  readonly sinks?: readonly EvidenceSink[];
}

/**
 * Evidence of a verdict decided after the validator deferred (the EBS helper flow, the S3 distributed
 * map): reads the job again, builds the final record — it replaces the DEFERRED one in the index —
 * and runs the stack's sinks (store, metrics, the FAILED/TIMED_OUT notification). Never throws: the
 * verdict is already posted, so a record that cannot be written is logged and the step succeeds.
 */
export async function recordFinalVerdict(input: FinalVerdictEvidence): Promise<EvidenceRecord | undefined> {
  try {
    const job = await loadRestoreJob(input.clients.backup, input.restoreJobId);
    const record = buildEvidence({
      job,
      run: {
        verdict: input.verdict,
        results: input.verdict.checks,
        notes: input.notes ?? {},
        startedAt: input.startedAt,
        finishedAt: new Date(),
        ...(input.objectives ? { objectives: input.objectives } : {}),
      },
      validator: input.validator,
      reported: input.posted === 'posted',
      mode: input.dryRun ? 'dry-run' : 'lambda',
      codeVersion: input.settings.codeVersion,
    });
    for (const sink of input.sinks ?? defaultEvidenceSinks())
      await sink(record, { clients: input.clients, settings: input.settings });
    return record;
  } catch (err) {
    logger.warn('evidence of the final verdict not stored', {
      restoreJobId: input.restoreJobId,
      validator: input.validator,
      reason: reasonOf(err),
    });
    return undefined;
  }
}
