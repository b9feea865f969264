/**
 * SNS notification for a FAILED or TIMED_OUT validation (and a restore job that failed to restore):
 * a short subject and a few readable lines, never check data beyond the check's own detail line.
 * @see https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (Subject: ASCII, at most 100 characters)
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { EvidenceRecord } from './evidence';

const NOTIFY_VERDICTS = new Set<EvidenceRecord['verdict']>(['FAILED', 'TIMED_OUT']);

/** Subject: `[restore-validation] FAILED RDS orders-prod`, ASCII only, ≤ 100 characters. */
export function notificationSubject(record: EvidenceRecord): string {
  const resource = shortName(record.sourceResourceArn) ?? record.restoreJobId;
  const raw = `[restore-validation] ${record.verdict} ${record.resourceType} ${resource}`;
  // SNS rejects control characters and non-ASCII in subjects.
  const ascii = raw.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}

/** The message body: what failed, where, and where the evidence is. */
export function notificationBody(record: EvidenceRecord, evidenceLocation?: string): string {
  const failed = record.checks.filter((c) => c.status === 'fail' || c.status === 'error');
  const lines = [
    `Restore validation ${record.verdict}`,
    `Reason: ${record.message}`,
    '',
    `Resource type:   ${record.resourceType}`,
    `Source resource: ${record.sourceResourceArn ?? 'unknown'}`,
    `Restored as:     ${record.createdResourceArn ?? 'unknown'}`,
    `Restore job:     ${record.restoreJobId}`,
    `Plan:            ${record.restoreTestingPlanName ?? record.restoreTestingPlanArn ?? 'none'}`,
    `Account/region:  ${record.accountId ?? '?'} / ${record.region ?? '?'}`,
    `Recovery point:  ${record.recoveryPointCreationDate ?? 'unknown'}`,
  ];
  if (typeof record.restoreDurationSeconds === 'number') {
    lines.push(`Restore took:    ${Math.round(record.restoreDurationSeconds / 60)} min`);
  }
  if (failed.length > 0) {
    lines.push('', `Failed checks (${failed.length} of ${record.checks.length}):`);
    for (const c of failed.slice(0, 10)) lines.push(`  - ${c.id} [${c.status}]: ${c.detail.slice(0, 300)}`);
    if (failed.length > 10) lines.push(`  … and ${failed.length - 10} more`);
  }
  if (evidenceLocation) lines.push('', `Evidence: ${evidenceLocation}`);
  return lines.join('\n');
}

/**
 * Publishes a notification when the verdict is FAILED or TIMED_OUT; does nothing otherwise or when
 * no topic is configured. Returns whether a message was sent.
 */
export async function notifyVerdict(
  sns: SNSClient,
  topicArn: string | undefined,
  record: EvidenceRecord,
  evidenceLocation?: string,
): Promise<boolean> {
  if (!topicArn || !NOTIFY_VERDICTS.has(record.verdict)) return false;
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notificationSubject(record),
      Message: notificationBody(record, evidenceLocation),
      MessageAttributes: {
        verdict: { DataType: 'String', StringValue: record.verdict },
        resourceType: { DataType: 'String', StringValue: record.resourceType || 'unknown' },
      },
    }),
  );
  return true;
}

function shortName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const last = arn.split(/[:/]/).pop();
  return last || undefined;
}
