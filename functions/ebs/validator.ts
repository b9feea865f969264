/**
 * The EBS validator. A restored volume is proven in two parts:
 * 1. control plane (here, in the validator Lambda): DescribeVolumes state, size and encryption against
 *    the source, the restore-test guard, its AZ;
 * 2. data (the helper flow): a helper instance in the volume's AZ attaches it and runs the
 *    mount-check program (fsck + read-only mount of every file system + the profile's checks).
 * Part 2 can take many minutes, so the validator starts the Step Functions helper flow and defers:
 * the flow posts the verdict and always cleans up (see functions/ebs/steps.ts).
 * In local mode (`restore-validation check ebs --device PATH`) the mount check runs in-process.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */

import { paginateListRestoreTestingSelections } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { unhandledProfileChecks } from '../../shared/check-implementations';
import { type CheckDefinition, defineCheck, errored, runChecks } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import type { Profile } from '../../shared/config/index';
import { ResourceStateError } from '../../shared/errors';
import { fsChecksOfKinds } from '../../shared/files/kinds';
import { runMountCheck } from '../../shared/files/mount-check/index';
import {
  FS_CHECK_KINDS,
  type FsCheckSpec,
  type MountCheckResult,
} from '../../shared/files/mount-check/types';
import { objectivesAtHandOff } from '../../shared/objectives';
import { DeferredValidation, defineValidator, type ValidationContext } from '../../shared/validator';
import { type HelperFlowInput, STATE_HARD_LIMIT, withChecks } from './flow';
import { type EbsSettings, ebsSettings } from './settings';
import {
  describeRestoredVolume,
  describeSource,
  type SourceFacts,
  type VolumeFacts,
  volumeStateChecks,
} from './volume';

type EbsContext = ValidationContext<EbsSettings>;

registerClients({ ec2: EC2Client, sfn: SFNClient });

export interface EbsFacts {
  readonly volume?: VolumeFacts;
  readonly source?: SourceFacts;
  /** The mount-check result (local mode). */
  readonly mountCheck?: MountCheckResult;
  /** Why the data part could not run (no helper flow configured, state checks failed first). */
  readonly mountCheckNotRun?: { readonly status: 'skip' | 'error'; readonly reason: string };
}

/** The profile's file-system checks (paths, files, directory, freeSpace), in profile order. */
export function fsChecksOf(profile: Profile | undefined): FsCheckSpec[] {
  return (profile?.checks ?? []).filter(fsChecksOfKinds(FS_CHECK_KINDS));
}

const stateChecks = volumeStateChecks<EbsFacts>((f) => {
  if (!f.volume || !f.source) throw new Error('volume facts missing');
  return { volume: f.volume, source: f.source };
});

/** The mount check's items as checks (built-in `fsck:*`, `mount:*` and the profile's by id). */
export function mountCheckChecks<F>(result: MountCheckResult): CheckDefinition<F>[] {
  return result.checks.map((item) =>
    defineCheck<F>({
      id: item.id,
      // The program measured the real duration; the runner only sees the hand-over of the result.
      run: () => ({
        status: item.status,
        detail: item.detail,
        data: { ...item.data, measuredMs: item.durationMs },
      }),
    }),
  );
}

async function gatherLocal(ctx: EbsContext): Promise<EbsFacts> {
  const device = ctx.target.device;
  if (typeof device !== 'string' || !device)
    throw new ResourceStateError('give --device PATH (a block device or an image file)');
  const mountCheck = await runMountCheck({ device, checks: fsChecksOf(ctx.profile) });
  ctx.note('partitionTable', mountCheck.partitionTable);
  ctx.note(
    'filesystems',
    mountCheck.filesystems.map((f) => ({ name: f.name, type: f.type, access: f.access })),
  );
  return { mountCheck };
}

async function gatherLambda(ctx: EbsContext): Promise<EbsFacts> {
  const volumeId = ctx.job.created?.resourceId;
  if (!volumeId?.startsWith('vol-')) {
    throw new ResourceStateError(
      `the restore job names no restored volume (CreatedResourceArn ${ctx.job.createdResourceArn ?? 'missing'})`,
    );
  }
  const retry = { deadline: ctx.deadline, signal: ctx.signal };
  const volume = await describeRestoredVolume(ctx.clients.ec2, volumeId, retry);
  const source = await describeSource(ctx.clients.ec2, ctx.job.source?.resourceId, retry);
  ctx.note('availabilityZone', volume.availabilityZone);
  ctx.note('volumeSizeGiB', volume.sizeGiB);
  ctx.note('volumeType', volume.volumeType);
  const facts: EbsFacts = { volume, source };
  const arn = ctx.settings.stateMachineArn;
  if (!arn) {
    const checks = fsChecksOf(ctx.profile);
    return {
      ...facts,
      mountCheckNotRun: {
        status: checks.length > 0 ? 'error' : 'skip',
        reason:
          'no EBS helper state machine is configured (EBS_STATE_MACHINE_ARN), so fsck, mount and file checks could not run',
      },
    };
  }
  // The state checks decide first: a volume that is not available cannot be attached to a helper.
  const stateResults = await runChecks(stateChecks, facts, { deadline: ctx.deadline, signal: ctx.signal });
  if (stateResults.some((r) => r.status === 'fail' || r.status === 'error')) {
    return {
      ...facts,
      mountCheckNotRun: {
        status: 'skip',
        reason: 'the volume failed its state checks, so no helper was started',
      },
    };
  }
  // Profile checks the helper does not run (e.g. `lambda`) run here, before the hand-off, so the
  // flow's verdict includes them instead of silently dropping them.
  const fsChecks = fsChecksOf(ctx.profile);
  const others = unhandledProfileChecks(ctx, 'ebs', new Set(fsChecks.map((c) => c.id)));
  const otherResults = others.length
    ? await runChecks(others, facts as unknown, { deadline: ctx.deadline, signal: ctx.signal })
    : [];
  const helper = ctx.settings.helper;
  const deadline = await helperDeadline(ctx, helper.maxMinutes);
  const objectives = objectivesAtHandOff(ctx.config, ctx.profile, ctx.job);
  const input: HelperFlowInput = {
    restoreJobId: ctx.job.restoreJobId,
    volumeId,
    availabilityZone: volume.availabilityZone,
    ...withChecks(fsChecks),
    stateResults: [...stateResults, ...otherResults, ...objectives.results],
    failWhenNothingChecked: ctx.profile?.failWhenNothingChecked ?? ctx.config.defaults.failWhenNothingChecked,
    helper,
    deadline: deadline.toISOString(),
    dryRun: ctx.dryRun,
    startedAt: new Date().toISOString(),
    ...(objectives.objectives ? { objectives: objectives.objectives } : {}),
  };
  const size = JSON.stringify(input).length;
  if (size > STATE_HARD_LIMIT) {
    // Refused here with the reason, instead of an execution dying with States.DataLimitExceeded.
    throw new ResourceStateError(
      `the profile's ${fsChecks.length} file checks pack to ${Math.round(size / 1024)} KiB, over the ${STATE_HARD_LIMIT / 1024} KiB the EBS helper flow can carry (Step Functions allows 256 KiB per state): split the canaries over fewer files or hash a manifest file instead`,
    );
  }
  const executionArn = await startFlow(ctx, arn, input);
  ctx.note('helperExecutionArn', executionArn);
  throw new DeferredValidation(
    executionArn,
    `EBS helper flow started for ${volumeId} in ${volume.availabilityZone}`,
  );
}

/** Kept between the helper's deadline and the end of the validation window: the verdict and clean-up. */
const WINDOW_RESERVE_MS = 10 * 60_000;
/** A helper needs at least this long (launch, SSM, fsck): less left in the window is refused up front. */
const MIN_HELPER_MS = 15 * 60_000;

/**
 * The helper's deadline: its maximum lifetime, but never past the job's validation window (the
 * selection's ValidationWindowHours after the restore completed) minus a reserve for the clean-up
 * and the verdict. AWS Backup sets TIMED_OUT and deletes the volume when the window closes, so a
 * helper still holding it then would be in the way.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
export async function helperDeadline(ctx: EbsContext, maxMinutes: number): Promise<Date> {
  const now = Date.now();
  const byLifetime = now + maxMinutes * 60_000;
  const windowEnd = await validationWindowEnd(ctx);
  if (windowEnd === undefined) return new Date(byLifetime);
  const byWindow = windowEnd.getTime() - WINDOW_RESERVE_MS;
  if (byWindow - now < MIN_HELPER_MS) {
    throw new ResourceStateError(
      `the validation window closes at ${windowEnd.toISOString()}: too little time left for an EBS helper (needs ${MIN_HELPER_MS / 60_000} minutes plus ${WINDOW_RESERVE_MS / 60_000} for clean-up); lengthen the selection's ValidationWindowHours`,
    );
  }
  return new Date(Math.min(byLifetime, byWindow));
}

/** When the job's validation window closes, or undefined when it cannot be known (no plan, denied). */
async function validationWindowEnd(ctx: EbsContext): Promise<Date | undefined> {
  const plan = ctx.job.restoreTestingPlanName;
  const from = ctx.job.completionDate ?? ctx.job.creationDate;
  if (!plan || !from) return undefined;
  let hours: number | undefined;
  try {
    for await (const out of paginateListRestoreTestingSelections(
      { client: ctx.clients.backup },
      { RestoreTestingPlanName: plan },
      { abortSignal: ctx.signal },
    ))
      for (const s of out.RestoreTestingSelections ?? [])
        if (s.ProtectedResourceType === 'EBS' && s.ValidationWindowHours && s.ValidationWindowHours > 0)
          hours = Math.min(hours ?? Number.POSITIVE_INFINITY, s.ValidationWindowHours);
  } catch (err) {
    ctx.logger.warn('validation window unknown', {
      plan,
      reason: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
  return hours === undefined ? undefined : new Date(from.getTime() + hours * 3_600_000);
}

/**
 * Starts the helper flow, named after the restore job so a duplicate delivery cannot start a second
 * helper: Step Functions refuses a second execution with the same name (ExecutionAlreadyExists).
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
async function startFlow(ctx: EbsContext, arn: string, input: HelperFlowInput): Promise<string> {
  const name = `ebs-${input.restoreJobId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
  try {
    const out = await ctx.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }),
    );
    if (!out.executionArn) throw new Error('StartExecution returned no execution ARN');
    ctx.logger.info('EBS helper flow started', { executionArn: out.executionArn });
    return out.executionArn;
  } catch (err) {
    if (
      err instanceof ExecutionAlreadyExists ||
      (err as { name?: string }).name === 'ExecutionAlreadyExists'
    ) {
      return `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    }
    throw err;
  }
}

export const ebsValidator = defineValidator<EbsFacts, EbsSettings>({
  name: 'ebs',
  resourceTypes: ['EBS'],
  settings: ebsSettings,
  gather: (ctx) => (ctx.mode === 'local' ? gatherLocal(ctx) : gatherLambda(ctx)),
  checks(ctx, facts) {
    const checks: CheckDefinition<EbsFacts>[] = [];
    if (facts.volume) checks.push(...stateChecks);
    if (facts.mountCheck) checks.push(...mountCheckChecks<EbsFacts>(facts.mountCheck));
    const notRun = facts.mountCheckNotRun;
    if (notRun) {
      checks.push(
        defineCheck<EbsFacts>({
          id: 'mount-check',
          run: () => ({ status: notRun.status, detail: notRun.reason }),
        }),
      );
      // The profile's file checks could not run: each is reported, never silently dropped.
      for (const c of fsChecksOf(ctx.profile)) {
        checks.push(
          defineCheck<EbsFacts>({
            id: c.id,
            run: () =>
              notRun.status === 'error' ? errored(notRun.reason) : { status: 'skip', detail: notRun.reason },
          }),
        );
      }
    }
    return checks;
  },
});
