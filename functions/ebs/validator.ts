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

import { EC2Client } from '@aws-sdk/client-ec2';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { unhandledProfileChecks } from '../../shared/check-implementations';
import { type CheckDefinition, defineCheck, errored, runChecks } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import type { Profile } from '../../shared/config/index';
import { ResourceStateError } from '../../shared/errors';
import { DeferredValidation, defineValidator, type ValidationContext } from '../../shared/validator';
import { type HelperFlowInput, helperSettings } from './flow';
import { runMountCheck } from './mount-check/index';
import { FS_CHECK_KINDS, type FsCheckSpec, type MountCheckResult } from './mount-check/types';
import {
  describeRestoredVolume,
  describeSource,
  type SourceFacts,
  type VolumeFacts,
  volumeStateChecks,
} from './volume';

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
  return (profile?.checks ?? []).filter((c) =>
    (FS_CHECK_KINDS as readonly string[]).includes(c.kind),
  ) as unknown as FsCheckSpec[];
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

function stateMachineArn(ctx: ValidationContext): string | undefined {
  return ctx.settings.EBS_STATE_MACHINE_ARN || ctx.settings.STATE_MACHINE_ARN || undefined;
}

async function gatherLocal(ctx: ValidationContext): Promise<EbsFacts> {
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

async function gatherLambda(ctx: ValidationContext): Promise<EbsFacts> {
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
  const arn = stateMachineArn(ctx);
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
  const helper = helperSettings(ctx.settings);
  const input: HelperFlowInput = {
    restoreJobId: ctx.job.restoreJobId,
    volumeId,
    availabilityZone: volume.availabilityZone,
    checks: fsChecks,
    stateResults: [...stateResults, ...otherResults],
    failWhenNothingChecked: ctx.profile?.failWhenNothingChecked ?? ctx.config.defaults.failWhenNothingChecked,
    helper,
    deadline: new Date(Date.now() + helper.maxMinutes * 60_000).toISOString(),
    post: ctx.settings.RESTORE_VALIDATION_DRY_RUN !== 'true',
    startedAt: new Date().toISOString(),
  };
  const executionArn = await startFlow(ctx, arn, input);
  ctx.note('helperExecutionArn', executionArn);
  throw new DeferredValidation(
    executionArn,
    `EBS helper flow started for ${volumeId} in ${volume.availabilityZone}`,
  );
}

/**
 * Starts the helper flow, named after the restore job so a duplicate delivery cannot start a second
 * helper: Step Functions refuses a second execution with the same name (ExecutionAlreadyExists).
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
async function startFlow(ctx: ValidationContext, arn: string, input: HelperFlowInput): Promise<string> {
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

export const ebsValidator = defineValidator<EbsFacts>({
  name: 'ebs',
  resourceTypes: ['EBS'],
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
