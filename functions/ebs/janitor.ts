/**
 * The janitor: the last line of the EBS clean-up guarantee, run on a schedule. It terminates helper
 * instances (tagged `restore-validation:created-by`) whose deadline tag has passed, after detaching
 * any restore-test volume still attached to them. It never touches an instance without our tag or a
 * volume that is not a restore-test resource (both guarded), and a helper without a readable deadline
 * is treated as expired once it is older than the fallback age. An instance that carries our exact tag
 * but was not launched by the flow (see notOurLaunch) is left alone and reported.
 */
import {
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  type Instance,
  paginateDescribeInstances,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { clients, registerClients } from '../../shared/clients';
import { reasonOf } from '../../shared/errors';
import { assertCreatedByUs, CREATED_BY_TAG, isRestoreTestResource } from '../../shared/guard';
import { logger } from '../../shared/logger';
import { withRetry } from '../../shared/retry';
import { DEFAULT_HELPER_MAX_MINUTES, HELPER_DEADLINE_TAG, HELPER_JOB_TAG, helperClientToken } from './flow';
import { ebsHelperSettings } from './settings';

registerClients({ ec2: EC2Client });

export interface JanitorReport {
  readonly terminated: readonly string[];
  readonly detached: readonly { volumeId: string; instanceId: string }[];
  /** Helpers still within their deadline. */
  readonly kept: readonly string[];
  /** What was refused or failed, with the reason. */
  readonly problems: readonly string[];
}

export interface JanitorOptions {
  readonly now?: number;
  /** Age after which a helper with no readable deadline tag is expired. Default: 2 × the default helper time. */
  readonly fallbackMaxAgeMs?: number;
  /** Force-detach (for a helper that is stuck). Default true: the helper is about to be terminated anyway. */
  readonly force?: boolean;
  /** The construct's helper security group and instance profile: when given, a helper must have both. */
  readonly securityGroupId?: string;
  readonly instanceProfileName?: string;
}

/**
 * Why an instance carrying our exact tag was not launched by the EBS helper flow, or undefined when
 * it was: a tag is easy to copy, but the launch's client token (EC2 keeps it, nobody can change it)
 * must be the one the flow derives from the instance's restore-job tag, and the instance must have
 * the construct's security group and instance profile.
 */
export function notOurLaunch(i: Instance, options: JanitorOptions = {}): string | undefined {
  const job = tagOf(i, HELPER_JOB_TAG);
  if (!job) return `it has no ${HELPER_JOB_TAG} tag`;
  if (i.ClientToken !== helperClientToken(job))
    return `its launch token ${JSON.stringify(i.ClientToken ?? '')} is not the helper flow's for job ${job}`;
  if (options.securityGroupId && !i.SecurityGroups?.some((g) => g.GroupId === options.securityGroupId))
    return `it lacks the helper security group ${options.securityGroupId}`;
  const profile = i.IamInstanceProfile?.Arn?.split('/').pop();
  if (options.instanceProfileName && profile !== options.instanceProfileName)
    return `its instance profile ${profile ?? 'none'} is not the helper profile ${options.instanceProfileName}`;
  return undefined;
}

const tagOf = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;

function expired(i: Instance, now: number, fallbackMaxAgeMs: number): boolean {
  const deadline = Date.parse(tagOf(i, HELPER_DEADLINE_TAG) ?? '');
  if (Number.isFinite(deadline)) return deadline <= now;
  const launched = i.LaunchTime ? new Date(i.LaunchTime).getTime() : Number.NaN;
  return Number.isFinite(launched) ? now - launched > fallbackMaxAgeMs : true;
}

/** Finds expired helpers, detaches restore-test volumes from them, and terminates them. */
export async function sweep(ec2: EC2Client, options: JanitorOptions = {}): Promise<JanitorReport> {
  const now = options.now ?? Date.now();
  const fallback = options.fallbackMaxAgeMs ?? 2 * DEFAULT_HELPER_MAX_MINUTES * 60_000;
  const terminated: string[] = [];
  const detached: { volumeId: string; instanceId: string }[] = [];
  const kept: string[] = [];
  const problems: string[] = [];
  const helpers: Instance[] = [];
  for await (const page of paginateDescribeInstances(
    { client: ec2 },
    {
      Filters: [
        { Name: 'tag-key', Values: [CREATED_BY_TAG] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    },
  ))
    for (const r of page.Reservations ?? []) helpers.push(...(r.Instances ?? []));

  for (const helper of helpers) {
    const instanceId = helper.InstanceId ?? '';
    // Only EBS helpers: other tools of this project tag their own instances with the same key.
    if (tagOf(helper, CREATED_BY_TAG) !== 'ebs-helper') continue;
    if (!expired(helper, now, fallback)) {
      kept.push(instanceId);
      continue;
    }
    const foreign = notOurLaunch(helper, options);
    if (foreign) {
      problems.push(`left ${instanceId} alone: tagged as an EBS helper, but ${foreign}`);
      continue;
    }
    try {
      assertCreatedByUs(instanceId, helper.Tags, 'terminate');
      const rootVolumeIds = new Set(
        (helper.BlockDeviceMappings ?? [])
          .filter((b) => b.DeviceName === helper.RootDeviceName)
          .map((b) => b.Ebs?.VolumeId),
      );
      const attachedIds = (helper.BlockDeviceMappings ?? [])
        .map((b) => b.Ebs?.VolumeId)
        .filter((v): v is string => !!v && !rootVolumeIds.has(v));
      if (attachedIds.length > 0) {
        const vols = await withRetry(() => ec2.send(new DescribeVolumesCommand({ VolumeIds: attachedIds })));
        for (const v of vols.Volumes ?? []) {
          const volumeId = v.VolumeId ?? '';
          const name = v.Tags?.find((t) => t.Key === 'Name')?.Value;
          if (!isRestoreTestResource(name ?? volumeId, v.Tags)) {
            problems.push(`left ${volumeId} attached to ${instanceId}: not a restore-test volume`);
            continue;
          }
          try {
            await withRetry(() =>
              ec2.send(
                new DetachVolumeCommand({
                  VolumeId: volumeId,
                  InstanceId: instanceId,
                  Force: options.force ?? true,
                }),
              ),
            );
            detached.push({ volumeId, instanceId });
          } catch (err) {
            problems.push(`could not detach ${volumeId} from ${instanceId}: ${reasonOf(err)}`);
          }
        }
      }
      await withRetry(() => ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
      terminated.push(instanceId);
      logger.info('janitor terminated an expired EBS helper', { instanceId });
    } catch (err) {
      problems.push(`could not clean up ${instanceId}: ${reasonOf(err)}`);
    }
  }
  if (problems.length) logger.warn('janitor problems', { problems });
  return { terminated, detached, kept, problems };
}

/** Scheduled Lambda (EventBridge rate rule from the EBS helper construct). */
export async function handler(): Promise<JanitorReport> {
  const { securityGroupId, instanceProfileName } = ebsHelperSettings();
  return sweep(clients().ec2, { securityGroupId, instanceProfileName });
}
