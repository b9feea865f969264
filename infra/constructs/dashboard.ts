/**
 * The restore-validation CloudWatch dashboard: verdicts per day, failures by resource type, restore
 * time (RTO), data age (RPO), validation duration, the reconciler and the alarms; on a central
 * stack, one row per metric with a line per member account.
 */
import { aws_cloudwatch as cloudwatch, Duration, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/metrics';

/** A metric the validators and the reconciler emit (`RestoreValidation` namespace, `service` dimension). */
export function restoreValidationMetric(
  name: string,
  statistic = 'Sum',
  period = Duration.minutes(5),
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic,
    period,
  });
}

/** The dashboard (construct id `Dashboard` in `scope`), with an organization section when members are named. */
export function restoreValidationDashboard(
  scope: Construct,
  alarms: cloudwatch.IAlarm[],
  metric: typeof restoreValidationMetric,
  memberAccountIds?: readonly string[],
): cloudwatch.Dashboard {
  /** A graph with one line per resource type (SEARCH over the ResourceType dimension). */
  const byType = (title: string, width: number, name: string, stat: string) =>
    new cloudwatch.GraphWidget({
      title,
      width,
      left: [
        new cloudwatch.MathExpression({
          expression: `SEARCH('{${METRICS_NAMESPACE},ResourceType,service} MetricName="${name}"', '${stat}', 3600)`,
          label: '',
          period: Duration.hours(1),
        }),
      ],
    });
  const daily = (name: string, label: string, color?: string) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: METRICS_SERVICE },
      statistic: 'Sum',
      period: Duration.days(1),
      label,
      ...(color ? { color } : {}),
    });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    ...(Token.isUnresolved(Stack.of(scope).region)
      ? {}
      : { dashboardName: `restore-validation-${Stack.of(scope).region}` }),
    defaultInterval: Duration.days(30),
    widgets: [
      [
        new cloudwatch.TextWidget({
          markdown:
            '# Restore validation\nVerdicts, restore time (RTO), data age (RPO) and the reconciler. Evidence report: `npx restore-validation report`.',
          width: 24,
          height: 2,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Validations per day',
          width: 12,
          stacked: true,
          left: [
            new cloudwatch.MathExpression({
              expression: 'total - failed - timedout',
              usingMetrics: {
                total: daily(METRIC.validations, 'all'),
                failed: daily(METRIC.failed, 'f'),
                timedout: daily(METRIC.timedOut, 't'),
              },
              label: 'successful or deferred',
              color: '#2ca02c',
              period: Duration.days(1),
            }),
            daily(METRIC.failed, 'failed', '#d62728'),
            daily(METRIC.timedOut, 'timed out', '#ff7f0e'),
          ],
        }),
        byType('Failed validations by resource type', 12, METRIC.failed, 'Sum'),
      ],
      [
        byType('Restore time by resource type (s, max)', 8, METRIC.restoreDuration, 'Maximum'),
        byType('Data age at the recovery point (min, max)', 8, METRIC.dataAge, 'Maximum'),
        byType('Validation duration (ms, p90)', 8, METRIC.validationDuration, 'p90'),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Reconciler',
          width: 12,
          left: [
            metric(METRIC.reconcilerRuns, 'Sum', Duration.hours(1)).with({ label: 'passes' }),
            metric(METRIC.reconcilerDispatched, 'Sum', Duration.hours(1)).with({
              label: 'missed events dispatched',
            }),
            metric(METRIC.reconcilerWindowClosing, 'Sum', Duration.hours(1)).with({
              label: 'FAILED at window close',
            }),
            metric(METRIC.restoreJobsFailed, 'Sum', Duration.hours(1)).with({
              label: 'restores that failed',
            }),
          ],
          right: [
            metric(METRIC.untestedResources, 'Maximum', Duration.hours(1)).with({
              label: 'untested resources',
            }),
          ],
        }),
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          width: 12,
          alarms,
        }),
      ],
    ],
  });

  // One addWidgets call per row: widgets of one call sit side by side (24 columns at most).
  if (memberAccountIds)
    for (const row of organizationRows(memberAccountIds, daily)) dashboard.addWidgets(...row);
  return dashboard;
}

/** Accounts per organization graph (CloudWatch's limit per graph widget is well above; this keeps it legible). */
const ACCOUNTS_PER_GRAPH = 100;

/**
 * The central dashboard's organization rows: validations, failures and time-outs per day, one line per
 * member account (metrics that reach this account through the members' `forwardMetricsTo` links).
 */
function organizationRows(
  accounts: readonly string[],
  daily: (name: string, label: string) => cloudwatch.Metric,
): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        markdown: `## Organization\n${accounts.length} member account(s), linked through CloudWatch cross-account observability (\`forwardMetricsTo\`). An account with no line here has linked no metrics or run no validation.`,
        width: 24,
        height: 2,
      }),
    ],
  ];
  for (let i = 0; i < accounts.length; i += ACCOUNTS_PER_GRAPH) {
    const chunk = accounts.slice(i, i + ACCOUNTS_PER_GRAPH);
    const part = accounts.length > ACCOUNTS_PER_GRAPH ? ` (${i + 1}–${i + chunk.length})` : '';
    const perAccount = (name: string) => chunk.map((a) => daily(name, a).with({ account: a }));
    rows.push([
      new cloudwatch.GraphWidget({
        title: `Validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.validations),
      }),
      new cloudwatch.GraphWidget({
        title: `Failed validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.failed),
      }),
      new cloudwatch.GraphWidget({
        title: `Timed-out validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.timedOut),
      }),
    ]);
  }
  return rows;
}
