/**
 * Where evidence goes after a verdict in Lambda, each only when the stack configured it: the evidence
 * store (S3 object + DynamoDB index), CloudWatch metrics (EMF on stdout), and the SNS notification for
 * FAILED and TIMED_OUT verdicts, which links the stored evidence. One sink so the notification can name
 * the object the store just wrote; a failure of one part does not stop the others.
 */

import { SNSClient } from '@aws-sdk/client-sns';
import { registerClients } from './clients';
import { reasonOf } from './errors';
import type { EvidenceSink } from './evidence';
import { putEvidence } from './evidence-store';
import { logger } from './logger';
import { recordValidationMetrics } from './metrics';
import { notifyVerdict } from './notify';
import { registerStackSinks } from './verdict/finish';

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

// Every record finishValidation writes in a bundle that imports this module goes to these sinks.
registerStackSinks(defaultEvidenceSinks);
