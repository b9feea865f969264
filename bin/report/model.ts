/**
 * The report's data: built once from evidence summaries (+ the latest coverage report), then rendered
 * as HTML, CSV or JSON — so the three formats always say the same thing.
 */
import type {
  CoverageReport,
  EvidenceSummary,
  UntestedResource,
  UnwatchedRestore,
} from '../../shared/evidence-store';

export interface PassRatePoint {
  /** Bucket start, `YYYY-MM-DD` (a day, or the Monday of an ISO week). */
  readonly period: string;
  readonly total: number;
  readonly successful: number;
  readonly failed: number;
  readonly timedOut: number;
  /** successful / (successful + failed + timedOut), 0..1; null when nothing was decided. */
  readonly passRate: number | null;
}

export interface ResourceStats {
  readonly resourceArn: string;
  readonly resourceType: string;
  readonly validations: number;
  readonly successful: number;
  readonly lastVerdict: string;
  readonly lastValidatedAt: string;
  readonly lastSuccessfulAt?: string;
  readonly restoreMinutes?: { readonly median: number; readonly max: number; readonly last: number };
  readonly dataAgeMinutes?: { readonly median: number; readonly max: number; readonly last: number };
  /** The newest SUCCESSFUL validation: what an auditor asks for first. */
  readonly lastSuccessful?: LastSuccessful;
}

export interface LastSuccessful {
  readonly restoreJobId: string;
  readonly finishedAt: string;
  /** Hours from that validation to the report's generation. */
  readonly ageHours: number;
  readonly restoreMinutes?: number;
  readonly dataAgeMinutes?: number;
  readonly rtoObjectiveMinutes?: number;
  readonly rtoMet?: boolean | null;
  readonly rpoObjectiveMinutes?: number;
  readonly rpoMet?: boolean | null;
  readonly sha256?: string;
  /** Where its evidence record is (as EvidenceSummary.location). */
  readonly location: string;
}

export interface ReportModel {
  readonly generatedAt: string;
  /** Where the evidence came from (a directory or `s3://bucket`). */
  readonly source: string;
  readonly period: { readonly from?: string; readonly to?: string };
  readonly bucket: 'day' | 'week';
  readonly summary: {
    readonly validations: number;
    readonly successful: number;
    readonly failed: number;
    readonly timedOut: number;
    readonly deferred: number;
    readonly passRate: number | null;
    readonly resources: number;
    /** Resources never tested; null when no coverage report exists (unknown, not zero). */
    readonly untested: number | null;
    /** Selections whose resources could not be enumerated; null without a coverage report. */
    readonly notEvaluated: number | null;
    /** Validations that missed a recovery objective (RTO or RPO). */
    readonly objectivesMissed: number;
    /** Accounts with validations (more than one: a central evidence account's report). */
    readonly accounts: number;
    /** Medians over SUCCESSFUL validations only: a damaged copy's numbers say nothing of recovery. */
    readonly medianRestoreMinutes?: number;
    readonly medianDataAgeMinutes?: number;
  };
  readonly passRate: readonly PassRatePoint[];
  readonly resources: readonly ResourceStats[];
  readonly untested: readonly UntestedResource[];
  /** Selections (`plan/selection`) whose resources could not be enumerated (from the coverage report). */
  readonly notEvaluated: readonly string[];
  /** Restore tests in regions without a stack that got no verdict (from the coverage report). */
  readonly unwatched: readonly UnwatchedRestore[];
  readonly coverageGeneratedAt?: string;
  /** Every validation, newest first. */
  readonly validations: readonly EvidenceSummary[];
}

function median(sorted: number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function mondayOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow);
  return d.toISOString().slice(0, 10);
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** Keeps the latest record per restore job (a DEFERRED record is superseded by the final one). */
export function latestPerJob(summaries: Iterable<EvidenceSummary>): EvidenceSummary[] {
  const byJob = new Map<string, EvidenceSummary>();
  for (const s of summaries) {
    const prev = byJob.get(s.restoreJobId);
    if (!prev || prev.finishedAt <= s.finishedAt) byJob.set(s.restoreJobId, s);
  }
  return [...byJob.values()];
}

export function buildReportModel(input: {
  summaries: readonly EvidenceSummary[];
  coverage?: CoverageReport;
  source: string;
  now?: Date;
}): ReportModel {
  const validations = latestPerJob(input.summaries).sort((a, b) =>
    a.finishedAt < b.finishedAt ? 1 : a.finishedAt > b.finishedAt ? -1 : 0,
  );
  const from = validations.at(-1)?.finishedAt;
  const to = validations[0]?.finishedAt;
  const spanDays = from && to ? (Date.parse(to) - Date.parse(from)) / 86_400_000 : 0;
  const bucket: 'day' | 'week' = spanDays > 62 ? 'week' : 'day';

  const points = new Map<string, { total: number; successful: number; failed: number; timedOut: number }>();
  type Acc = {
    type: string;
    validations: number;
    successful: number;
    last?: EvidenceSummary;
    lastOk?: EvidenceSummary;
    restore: number[];
    age: number[];
    lastRestore?: number;
    lastAge?: number;
  };
  const byResource = new Map<string, Acc>();
  let successful = 0;
  let failed = 0;
  let timedOut = 0;
  let deferred = 0;
  let objectivesMissed = 0;
  const allRestore: number[] = [];
  const allAge: number[] = [];

  // Oldest first, so "last" is the newest.
  for (let i = validations.length - 1; i >= 0; i--) {
    const v = validations[i];
    if (!v) continue;
    const day = v.finishedAt.slice(0, 10);
    const key = bucket === 'week' ? mondayOf(day) : day;
    let p = points.get(key);
    if (!p) {
      p = { total: 0, successful: 0, failed: 0, timedOut: 0 };
      points.set(key, p);
    }
    p.total++;
    if (v.verdict === 'SUCCESSFUL') {
      p.successful++;
      successful++;
    } else if (v.verdict === 'FAILED') {
      p.failed++;
      failed++;
    } else if (v.verdict === 'TIMED_OUT') {
      p.timedOut++;
      timedOut++;
    } else deferred++;

    const arn = v.sourceResourceArn ?? `(unknown source, ${v.resourceType})`;
    let acc = byResource.get(arn);
    if (!acc) {
      acc = { type: v.resourceType, validations: 0, successful: 0, restore: [], age: [] };
      byResource.set(arn, acc);
    }
    acc.validations++;
    acc.last = v;
    const ok = v.verdict === 'SUCCESSFUL';
    if (ok) {
      acc.successful++;
      acc.lastOk = v;
    }
    if (v.rtoMet === false || v.rpoMet === false) objectivesMissed++;
    if (typeof v.restoreDurationSeconds === 'number') {
      const m = v.restoreDurationSeconds / 60;
      acc.restore.push(m);
      acc.lastRestore = m;
      if (ok) allRestore.push(m);
    }
    if (typeof v.dataAgeMinutes === 'number') {
      acc.age.push(v.dataAgeMinutes);
      acc.lastAge = v.dataAgeMinutes;
      if (ok) allAge.push(v.dataAgeMinutes);
    }
  }

  const stats = (values: number[], last: number | undefined) => {
    if (values.length === 0 || last === undefined) return undefined;
    values.sort((a, b) => a - b);
    return { median: round1(median(values)), max: round1(values.at(-1) ?? 0), last: round1(last) };
  };
  const now = input.now ?? new Date();
  const lastSuccessful = (v: EvidenceSummary | undefined): LastSuccessful | undefined =>
    v && {
      restoreJobId: v.restoreJobId,
      finishedAt: v.finishedAt,
      ageHours: round1(Math.max(0, now.getTime() - Date.parse(v.finishedAt)) / 3_600_000),
      restoreMinutes:
        v.restoreDurationSeconds === undefined ? undefined : round1(v.restoreDurationSeconds / 60),
      dataAgeMinutes: v.dataAgeMinutes,
      rtoObjectiveMinutes: v.rtoObjectiveMinutes,
      rtoMet: v.rtoMet,
      rpoObjectiveMinutes: v.rpoObjectiveMinutes,
      rpoMet: v.rpoMet,
      sha256: v.sha256,
      location: v.location,
    };
  const resources: ResourceStats[] = [...byResource.entries()]
    .map(([resourceArn, a]) => ({
      resourceArn,
      resourceType: a.type,
      validations: a.validations,
      successful: a.successful,
      lastVerdict: a.last?.verdict ?? '',
      lastValidatedAt: a.last?.finishedAt ?? '',
      lastSuccessfulAt: a.lastOk?.finishedAt,
      restoreMinutes: stats(a.restore, a.lastRestore),
      dataAgeMinutes: stats(a.age, a.lastAge),
      lastSuccessful: lastSuccessful(a.lastOk),
    }))
    .sort((a, b) => a.resourceArn.localeCompare(b.resourceArn));

  const decided = successful + failed + timedOut;
  const untested = input.coverage?.untested ?? [];
  const notEvaluated = input.coverage?.notEvaluated ?? [];
  allRestore.sort((a, b) => a - b);
  allAge.sort((a, b) => a - b);
  return {
    generatedAt: now.toISOString(),
    source: input.source,
    period: { from, to },
    bucket,
    summary: {
      validations: validations.length,
      successful,
      failed,
      timedOut,
      deferred,
      passRate: decided ? successful / decided : null,
      resources: resources.length,
      untested: input.coverage ? untested.length : null,
      notEvaluated: input.coverage ? notEvaluated.length : null,
      objectivesMissed,
      accounts: new Set(validations.map((v) => v.accountId).filter(Boolean)).size,
      medianRestoreMinutes: allRestore.length ? round1(median(allRestore)) : undefined,
      medianDataAgeMinutes: allAge.length ? round1(median(allAge)) : undefined,
    },
    passRate: [...points.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([period, p]) => {
        const d = p.successful + p.failed + p.timedOut;
        return { period, ...p, passRate: d ? p.successful / d : null };
      }),
    resources,
    untested,
    notEvaluated,
    unwatched: input.coverage?.unwatched ?? [],
    coverageGeneratedAt: input.coverage?.generatedAt,
    validations,
  };
}
