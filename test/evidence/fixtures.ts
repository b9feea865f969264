/**
 * Deterministic evidence records for tests and benchmarks: a mix of resource types, plans, verdicts,
 * restore durations and data ages spread over a period, as the lifecycle would write them.
 */
import type { CheckResult } from '../../shared/checks';
import { EVIDENCE_SCHEMA_VERSION, type EvidenceRecord } from '../../shared/evidence';
import { seededRandom } from '../../shared/random';

const TYPES = ['RDS', 'Aurora', 'EBS', 'S3', 'DynamoDB', 'EFS'] as const;
const SERVICE: Record<(typeof TYPES)[number], (name: string) => string> = {
  RDS: (n) => `arn:aws:rds:us-east-1:123456789012:db:${n}`,
  Aurora: (n) => `arn:aws:rds:us-east-1:123456789012:cluster:${n}`,
  EBS: (n) => `arn:aws:ec2:us-east-1:123456789012:volume/vol-${n}`,
  S3: (n) => `arn:aws:s3:::${n}`,
  DynamoDB: (n) => `arn:aws:dynamodb:us-east-1:123456789012:table/${n}`,
  EFS: (n) => `arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-${n}`,
};

/** Small PRNG so fixtures are the same every run. */
export const rng = seededRandom;

export interface FixtureOptions {
  readonly count: number;
  /** How many distinct source resources. Default count / 20, at least 5. */
  readonly resources?: number;
  /** Last validation time. Default 2026-11-24T00:00:00Z. */
  readonly end?: Date;
  /** Days covered. Default 120. */
  readonly days?: number;
  /** Share of FAILED verdicts. Default 0.08. */
  readonly failRate?: number;
  readonly seed?: number;
  /** Force every verdict. */
  readonly verdict?: 'SUCCESSFUL' | 'FAILED' | 'TIMED_OUT';
}

export function makeRecord(i: number, opts: FixtureOptions, rand: () => number = rng(i + 1)): EvidenceRecord {
  const resources = opts.resources ?? Math.max(5, Math.floor(opts.count / 20));
  const end = (opts.end ?? new Date('2026-11-24T00:00:00Z')).getTime();
  const days = opts.days ?? 120;
  const r = i % resources;
  const type = TYPES[r % TYPES.length] ?? 'RDS';
  const name = `${type.toLowerCase().replace('.', '-')}-app-${String(r).padStart(4, '0')}`;
  const started = new Date(end - Math.floor(((opts.count - i) / opts.count) * days * 86_400_000));
  const restoreSeconds = Math.round(600 + (r % 17) * 240 + rand() * 900);
  const restoreStart = new Date(started.getTime() - restoreSeconds * 1000 - 60_000);
  const restoreEnd = new Date(restoreStart.getTime() + restoreSeconds * 1000);
  const roll = rand();
  const failRate = opts.failRate ?? 0.08;
  const verdict: EvidenceRecord['verdict'] =
    opts.verdict ?? (roll < failRate ? 'FAILED' : roll < failRate + 0.01 ? 'TIMED_OUT' : 'SUCCESSFUL');
  const dataAge =
    type === 'RDS' || type === 'Aurora' || type === 'DynamoDB'
      ? Math.round(5 + (r % 7) * 9 + rand() * 30)
      : undefined;
  const checks: CheckResult[] = [
    { id: 'reachable', status: 'pass', detail: 'connected', durationMs: 120 },
    {
      id: 'rows-present',
      status: verdict === 'FAILED' ? 'fail' : 'pass',
      detail: verdict === 'FAILED' ? 'orders: 0 rows, expected at least 1000' : 'orders: 18234 rows',
      durationMs: 340,
    },
  ];
  if (dataAge !== undefined)
    checks.push({
      id: 'fresh',
      status: 'pass',
      detail: `newest row ${dataAge} min before the recovery point`,
      durationMs: 80,
    });
  const durationMs = Math.round(2_000 + rand() * 60_000);
  const id = `${(0x10000000 + i).toString(16).toUpperCase()}-FIX-${String(i).padStart(7, '0')}`;
  const plan = r % 3 === 0 ? 'weekly_restore_tests' : 'nightly_restore_tests';
  return {
    schemaVersion: EVIDENCE_SCHEMA_VERSION,
    restoreJobId: id,
    resourceType: type,
    validator: type.toLowerCase(),
    profile: `${type.toLowerCase()}-default`,
    accountId: '123456789012',
    region: 'us-east-1',
    restoreTestingPlanArn: `arn:aws:backup:us-east-1:123456789012:restore-testing-plan:${plan}-1a2b3c4d`,
    restoreTestingPlanName: plan,
    sourceResourceArn: SERVICE[type](name),
    createdResourceArn: SERVICE[type](`awsbackup-restore-test-${i}`),
    recoveryPointArn: `arn:aws:backup:us-east-1:123456789012:recovery-point:${id}`,
    recoveryPointCreationDate: new Date(restoreStart.getTime() - 3_600_000).toISOString(),
    restoreStartedAt: restoreStart.toISOString(),
    restoreCompletedAt: restoreEnd.toISOString(),
    restoreDurationSeconds: restoreSeconds,
    dataAgeMinutes: dataAge,
    verdict,
    message:
      verdict === 'SUCCESSFUL'
        ? `${checks.length} checks passed`
        : verdict === 'FAILED'
          ? 'FAILED: rows-present (orders: 0 rows, expected at least 1000)'
          : 'no verdict before the validation window closed',
    checks,
    validationStartedAt: started.toISOString(),
    validationFinishedAt: new Date(started.getTime() + durationMs).toISOString(),
    validationDurationMs: durationMs,
    reported: true,
    mode: 'lambda',
    codeVersion: '0.1.0',
    notes: {},
  };
}

/** `count` records, oldest first. */
export function makeRecords(opts: FixtureOptions): EvidenceRecord[] {
  const rand = rng(opts.seed ?? 42);
  return Array.from({ length: opts.count }, (_, i) => makeRecord(i, opts, rand));
}
