/**
 * CloudWatch metrics in embedded metric format (Powertools Metrics): written to stdout as structured
 * log lines, turned into metrics by CloudWatch Logs, so recording costs no API call.
 * Namespace `RestoreValidation`, service dimension `restore-validation`.
 *
 * Per resource type (dimensions service + ResourceType): `ValidationSucceeded`, `ValidationFailed`,
 * `ValidationTimedOut`, `ValidationDeferred` (0 or 1 each, so Sum = count and Average = rate),
 * `RestoreDurationSeconds`, `DataAgeMinutes`, `ValidationDurationMs`.
 * `RtoObjectiveMissed`, `RpoObjectiveMissed` (0 or 1, where the profile sets that objective and it was measured).
 * Totals (dimension service only, what alarms watch): `ValidationFailed`, `ValidationTimedOut`, `Validations`,
 * `ObjectivesMissed` (1 when a validation missed any objective).
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EvidenceRecord } from './evidence';
import { missedObjectives } from './objectives';

export const METRICS_NAMESPACE = 'RestoreValidation';
export const METRICS_SERVICE = 'restore-validation';

/** The process-wide Metrics instance (one per Lambda container). */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

/** Metric names, shared with the dashboard and alarms in infra/constructs/operations.ts. */
export const METRIC = {
  succeeded: 'ValidationSucceeded',
  failed: 'ValidationFailed',
  timedOut: 'ValidationTimedOut',
  deferred: 'ValidationDeferred',
  validations: 'Validations',
  restoreDuration: 'RestoreDurationSeconds',
  dataAge: 'DataAgeMinutes',
  validationDuration: 'ValidationDurationMs',
  reconcilerRuns: 'ReconcilerRuns',
  reconcilerDispatched: 'ReconcilerDispatched',
  reconcilerWindowClosing: 'ReconcilerWindowClosingFailed',
  restoreJobsFailed: 'RestoreJobsFailed',
  untestedResources: 'UntestedResources',
  unwatchedRestoreTests: 'UnwatchedRestoreTests',
  reconcilerApiCalls: 'ReconcilerApiCalls',
  instancesSwept: 'TemporaryInstancesSwept',
  objectivesMissed: 'ObjectivesMissed',
  rtoMissed: 'RtoObjectiveMissed',
  rpoMissed: 'RpoObjectiveMissed',
} as const;

/**
 * Records one validation's metrics: verdict counts by resource type, restore duration (RTO),
 * data age (RPO, when measured) and validation duration, plus the service-wide totals alarms use.
 * Publishes immediately (two EMF lines): the lifecycle needs no flush hook.
 * @param m the Metrics instance (default: the process-wide one; tests inject their own)
 */
export function recordValidationMetrics(record: EvidenceRecord, m: Metrics = metrics): void {
  // Totals first, without the ResourceType dimension, so alarms need one metric, not one per type.
  m.addMetric(METRIC.validations, MetricUnit.Count, 1);
  m.addMetric(METRIC.failed, MetricUnit.Count, record.verdict === 'FAILED' ? 1 : 0);
  m.addMetric(METRIC.timedOut, MetricUnit.Count, record.verdict === 'TIMED_OUT' ? 1 : 0);
  const missed = missedObjectives(record.objectives);
  if (record.objectives) m.addMetric(METRIC.objectivesMissed, MetricUnit.Count, missed.length ? 1 : 0);
  m.publishStoredMetrics();

  m.addDimension('ResourceType', record.resourceType || 'unknown');
  m.addMetric(METRIC.succeeded, MetricUnit.Count, record.verdict === 'SUCCESSFUL' ? 1 : 0);
  m.addMetric(METRIC.failed, MetricUnit.Count, record.verdict === 'FAILED' ? 1 : 0);
  m.addMetric(METRIC.timedOut, MetricUnit.Count, record.verdict === 'TIMED_OUT' ? 1 : 0);
  m.addMetric(METRIC.deferred, MetricUnit.Count, record.verdict === 'DEFERRED' ? 1 : 0);
  if (typeof record.restoreDurationSeconds === 'number') {
    m.addMetric(METRIC.restoreDuration, MetricUnit.Seconds, record.restoreDurationSeconds);
  }
  if (typeof record.dataAgeMinutes === 'number')
    m.addMetric(METRIC.dataAge, MetricUnit.Count, record.dataAgeMinutes);
  m.addMetric(METRIC.validationDuration, MetricUnit.Milliseconds, record.validationDurationMs);
  // An objective that nothing measured is neither met nor missed: no data point.
  const o = record.objectives;
  if (typeof o?.rto?.met === 'boolean') m.addMetric(METRIC.rtoMissed, MetricUnit.Count, o.rto.met ? 0 : 1);
  if (typeof o?.rpo?.met === 'boolean') m.addMetric(METRIC.rpoMissed, MetricUnit.Count, o.rpo.met ? 0 : 1);
  m.publishStoredMetrics();
}
