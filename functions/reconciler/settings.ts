/**
 * Reconciler settings, declared once (the construct sets the variables; shared/env.ts reads them).
 *
 * | env                              | default | meaning |
 * |----------------------------------|---------|---------|
 * | `RECONCILER_PLAN_ARNS`           | (all)   | comma-separated restore testing plan ARNs; empty: every plan in the account/region |
 * | `RECONCILER_LOOKBACK_HOURS`      | 192     | jobs created this far back are looked at (the longest window is 168 h) |
 * | `RECONCILER_GRACE_MINUTES`       | 20      | a COMPLETED job with no validation status this long after completion missed its event |
 * | `RECONCILER_CLOSE_MARGIN_MINUTES`| 75      | post FAILED when the window closes within this margin (≥ 2 schedule intervals) |
 * | `RECONCILER_INTERVAL_MINUTES`    | 30      | the schedule interval (used when no evidence index exists) |
 * | `RECONCILER_CONCURRENCY`         | 8       | actions in parallel |
 * | `RECONCILER_DISPATCH_CLAIM_MINUTES` | 120  | a dispatched job is not dispatched again for this long |
 * | `RECONCILER_WATCH_REGIONS`       | (none)  | comma-separated regions with restore tests but no stack: their unvalidated jobs are reported |
 * | `RECONCILER_MEMBER_ROLE_ARNS`    | `[]`    | central account: JSON list of role ARNs, one per member account, assumed to list its restore jobs (report only) |
 * | `RECONCILER_MEMBER_REGIONS`      | watch regions + `AWS_REGION` | comma-separated regions listed in every member account |
 * | `VALIDATOR_FUNCTIONS`            | `{}`    | JSON map validator type → function name/ARN, e.g. `{"rds":"rv-rds"}` |
 * | `RECONCILER_SWEEP_INSTANCES`     | false   | `true`: delete temporary DB instances left behind (sweep.ts); the construct sets it |
 * | `RECONCILER_SWEEP_AFTER_MINUTES` | 60      | a temporary instance this old is left behind whatever its job says |
 * | `RESTORE_VALIDATION_VERSION`     | 0.1.0   | code version recorded in evidence |
 */
import { defineSettings, setting } from '../../shared/env';
import { VALIDATOR_TYPES, type ValidatorType } from '../../shared/resource-types';

export interface ReconcilerSettings {
  readonly planArns: readonly string[];
  readonly lookbackHours: number;
  readonly graceMinutes: number;
  readonly closeMarginMinutes: number;
  readonly intervalMinutes: number;
  readonly concurrency: number;
  readonly dispatchClaimMinutes: number;
  readonly validatorFunctions: Readonly<Partial<Record<ValidatorType, string>>>;
  readonly codeVersion: string;
  /** Regions (same account) with restore tests but no stack of their own. */
  readonly watchRegions: readonly string[];
  /** Central account: roles to assume, one per member account, for a report-only pass there. */
  readonly memberRoleArns: readonly string[];
  /** Regions listed in every member account. */
  readonly memberRegions: readonly string[];
  /** A dry-run deployment: decide and log, post nothing to AWS Backup (and so record nothing). */
  readonly dryRun: boolean;
  /** Delete temporary DB instances whose validation is over (sweep.ts). */
  readonly sweepInstances: boolean;
  readonly sweepAfterMinutes: number;
}

export const DEFAULT_RECONCILER_SETTINGS: ReconcilerSettings = {
  planArns: [],
  lookbackHours: 192,
  graceMinutes: 20,
  closeMarginMinutes: 75,
  intervalMinutes: 30,
  concurrency: 8,
  dispatchClaimMinutes: 120,
  validatorFunctions: {},
  codeVersion: '0.1.0',
  watchRegions: [],
  memberRoleArns: [],
  memberRegions: [],
  sweepInstances: false,
  sweepAfterMinutes: 60,
  dryRun: false,
};

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

function memberRoleArns(raw: string | undefined, name: string): string[] {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TypeError(`${name} is not JSON: expected ["arn:aws:iam::111122223333:role/name", …]`);
  }
  if (!Array.isArray(parsed)) throw new TypeError(`${name} must be a JSON list of role ARNs`);
  for (const a of parsed)
    if (typeof a !== 'string' || !ROLE_ARN.test(a))
      throw new TypeError(`${name}: ${JSON.stringify(a)} is not an IAM role ARN`);
  return parsed as string[];
}

function validatorFunctions(
  raw: string | undefined,
  name: string,
): Readonly<Partial<Record<ValidatorType, string>>> {
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TypeError(`${name} is not JSON: expected {"rds":"function-name", …}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TypeError(`${name} must be a JSON object`);
  for (const [k, v] of Object.entries(parsed)) {
    if (!(VALIDATOR_TYPES as readonly string[]).includes(k)) {
      throw new TypeError(
        `${name}: unknown validator type ${JSON.stringify(k)} (expected one of ${VALIDATOR_TYPES.join(', ')})`,
      );
    }
    if (typeof v !== 'string' || !v) throw new TypeError(`${name}.${k} must be a function name or ARN`);
  }
  return parsed as Partial<Record<ValidatorType, string>>;
}

const d = DEFAULT_RECONCILER_SETTINGS;

/** Reads the reconciler's settings; a bad value throws at cold start with the variable named. */
export const reconcilerSettings = defineSettings(
  {
    planArns: setting.list('RECONCILER_PLAN_ARNS'),
    lookbackHours: setting.positive('RECONCILER_LOOKBACK_HOURS', d.lookbackHours),
    graceMinutes: setting.positive('RECONCILER_GRACE_MINUTES', d.graceMinutes),
    closeMarginMinutes: setting.positive('RECONCILER_CLOSE_MARGIN_MINUTES', d.closeMarginMinutes),
    intervalMinutes: setting.positive('RECONCILER_INTERVAL_MINUTES', d.intervalMinutes),
    concurrency: setting.positive('RECONCILER_CONCURRENCY', d.concurrency),
    dispatchClaimMinutes: setting.positive('RECONCILER_DISPATCH_CLAIM_MINUTES', d.dispatchClaimMinutes),
    validatorFunctions: setting.custom('VALIDATOR_FUNCTIONS', validatorFunctions),
    codeVersion: setting.text('RESTORE_VALIDATION_VERSION', d.codeVersion),
    watchRegions: setting.list('RECONCILER_WATCH_REGIONS'),
    memberRoleArns: setting.custom('RECONCILER_MEMBER_ROLE_ARNS', memberRoleArns),
    /** Unset: the watch regions and the function's own region. */
    memberRegions: setting.custom('RECONCILER_MEMBER_REGIONS', (v) =>
      v === undefined ? undefined : setting.list('RECONCILER_MEMBER_REGIONS').parse(v, ''),
    ),
    region: 'AWS_REGION',
    sweepInstances: setting.flag('RECONCILER_SWEEP_INSTANCES'),
    dryRun: setting.flag('RESTORE_VALIDATION_DRY_RUN'),
    sweepAfterMinutes: setting.positive('RECONCILER_SWEEP_AFTER_MINUTES', d.sweepAfterMinutes),
  },
  ({ memberRegions, region, sweepAfterMinutes, ...read }): ReconcilerSettings => ({
    ...read,
    memberRegions: memberRegions ?? [...new Set([...read.watchRegions, ...(region ? [region] : [])])],
    // Below 20 minutes an instance a live validator is still using could be taken (Lambda runs 15).
    sweepAfterMinutes: Math.max(20, sweepAfterMinutes),
  }),
);
