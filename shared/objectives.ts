/**
 * Recovery objectives judged, not only measured: a profile (or `defaults`) sets
 * `objectives: { rtoMinutes, rpoMinutes, onMiss }`; the restore time (restore job creation to
 * completion) is judged against `rtoMinutes`, the data age at the recovery point (what a freshness
 * check measured) against `rpoMinutes`. A miss is always recorded (evidence, metrics, report);
 * it fails the verdict only with `onMiss: fail`.
 */
import type { CheckResult } from './checks';
import type { Config, Profile } from './config/schema';
import type { RestoreJob } from './job';

export interface Objectives {
  readonly rtoMinutes?: number;
  readonly rpoMinutes?: number;
  /** `report` (default): a miss is evidence, not a verdict; `fail`: a miss also fails the verdict. */
  readonly onMiss: 'report' | 'fail';
}

export interface ObjectiveJudgement {
  readonly objectiveMinutes: number;
  /** What was measured, minutes; undefined when nothing measured it. */
  readonly measuredMinutes?: number;
  /** true met, false missed, null not measured (no restore times, no freshness check). */
  readonly met: boolean | null;
}

/** What the evidence record carries. */
export interface ObjectivesEvidence {
  readonly onMiss: Objectives['onMiss'];
  readonly rto?: ObjectiveJudgement;
  readonly rpo?: ObjectiveJudgement;
}

/** The profile's objectives over the defaults', key by key; undefined when neither sets one. */
export function resolveObjectives(config: Config, profile: Profile | undefined): Objectives | undefined {
  const merged = { ...config.defaults.objectives, ...profile?.objectives };
  if (merged.rtoMinutes === undefined && merged.rpoMinutes === undefined) return undefined;
  return {
    rtoMinutes: merged.rtoMinutes,
    rpoMinutes: merged.rpoMinutes,
    onMiss: merged.onMiss ?? 'report',
  };
}

/** Restore job creation to completion, whole seconds (RTO evidence); undefined for local runs. */
export function restoreDurationSeconds(job: Pick<RestoreJob, 'creationDate' | 'completionDate'>) {
  return job.creationDate && job.completionDate
    ? Math.round((job.completionDate.getTime() - job.creationDate.getTime()) / 1000)
    : undefined;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function judge(objective: number | undefined, measured: number | undefined): ObjectiveJudgement | undefined {
  if (objective === undefined) return undefined;
  if (measured === undefined) return { objectiveMinutes: objective, met: null };
  return { objectiveMinutes: objective, measuredMinutes: round1(measured), met: measured <= objective };
}

export function judgeObjectives(
  objectives: Objectives,
  measured: { restoreDurationSeconds?: number; dataAgeMinutes?: number },
): ObjectivesEvidence {
  const rto = judge(
    objectives.rtoMinutes,
    measured.restoreDurationSeconds === undefined ? undefined : measured.restoreDurationSeconds / 60,
  );
  const rpo = judge(objectives.rpoMinutes, measured.dataAgeMinutes);
  return { onMiss: objectives.onMiss, ...(rto ? { rto } : {}), ...(rpo ? { rpo } : {}) };
}

/** Which objectives a judgement missed (`rto`, `rpo`). */
export function missedObjectives(e: ObjectivesEvidence | undefined): ('rto' | 'rpo')[] {
  return e ? (['rto', 'rpo'] as const).filter((k) => e[k]?.met === false) : [];
}

const fmt = (m: number) => (m >= 120 ? `${round1(m / 60)} h` : `${round1(m)} min`);

/**
 * With `onMiss: fail`, the objectives become results the verdict counts: `rto-objective` and
 * `rpo-objective`, pass or fail; `skip` when nothing measured it (a local run has no restore times,
 * a profile without a freshness check no data age), so an unmeasured objective never passes.
 */
export function objectiveResults(e: ObjectivesEvidence): CheckResult[] {
  const out: CheckResult[] = [];
  const one = (id: string, what: string, j: ObjectiveJudgement | undefined, unmeasured: string) => {
    if (!j) return;
    const limit = fmt(j.objectiveMinutes);
    out.push({
      id,
      status: j.met === null ? 'skip' : j.met ? 'pass' : 'fail',
      detail:
        j.met === null || j.measuredMinutes === undefined
          ? `${what} not measured (${unmeasured}); objective ${limit}`
          : `${what} ${fmt(j.measuredMinutes)} ${j.met ? 'is within' : 'exceeds'} the objective of ${limit}`,
      durationMs: 0,
    });
  };
  one('rto-objective', 'restore time', e.rto, 'no restore job times');
  one('rpo-objective', 'data age at the recovery point', e.rpo, 'add a freshness check to measure it');
  return out;
}

/**
 * What a validation that hands off to Step Functions (the EBS helper flow, the S3 distributed map)
 * carries for its objectives: the objectives themselves, for the final evidence record, and — with
 * `onMiss: fail` — their results judged now, which the final step's verdict counts like any other
 * result. The restore time is known at hand-off; the data age was measured by then or not at all.
 */
export function objectivesAtHandOff(
  config: Config,
  profile: Profile | undefined,
  job: Pick<RestoreJob, 'creationDate' | 'completionDate'>,
  dataAgeMinutes?: number,
): { objectives?: Objectives; results: CheckResult[] } {
  const objectives = resolveObjectives(config, profile);
  if (!objectives) return { results: [] };
  const results =
    objectives.onMiss === 'fail'
      ? objectiveResults(
          judgeObjectives(objectives, {
            restoreDurationSeconds: restoreDurationSeconds(job),
            dataAgeMinutes,
          }),
        )
      : [];
  return { objectives, results };
}
