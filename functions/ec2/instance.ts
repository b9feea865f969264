/**
 * EC2 control-plane facts: the restored instance (DescribeInstances) and its status checks
 * (DescribeInstanceStatus), waited for within a budget: a freshly restored instance reports
 * `initializing` for a few minutes before both checks read `ok`.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-system-instance-status-check.html
 */
import { DescribeInstanceStatusCommand, DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ResourceStateError } from '../../shared/errors';
import { assertRestoreTestResource } from '../../shared/guard';
import { withRetry } from '../../shared/retry';

export interface InstanceFacts {
  readonly instanceId: string;
  readonly state: string;
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly name?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ARN of the instance profile, when the restore gave it one. */
  readonly iamInstanceProfileArn?: string;
  readonly platform?: string;
  /** Windows instances run PowerShell through SSM. */
  readonly windows?: boolean;
  /** Where an `http` check with `from: validator` connects. */
  readonly privateIpAddress?: string;
}

export interface StatusFacts {
  /** `ok`, `impaired`, `initializing`, `insufficient-data`, `not-applicable`, or `unknown` when not reported. */
  readonly system: string;
  readonly instance: string;
  readonly waitedMs: number;
}

export async function describeInstance(
  ec2: EC2Client,
  instanceId: string,
): Promise<InstanceFacts | undefined> {
  try {
    const out = await withRetry(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
    const i = out.Reservations?.flatMap((r) => r.Instances ?? []).find((x) => x.InstanceId === instanceId);
    if (!i) return undefined;
    const tags: Record<string, string> = {};
    for (const t of i.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    return {
      instanceId,
      state: i.State?.Name ?? 'unknown',
      instanceType: i.InstanceType,
      availabilityZone: i.Placement?.AvailabilityZone,
      name: tags.Name,
      tags,
      iamInstanceProfileArn: i.IamInstanceProfile?.Arn,
      platform: i.PlatformDetails ?? i.Platform,
      // DescribeInstances sends `windows` (the SDK's enum says `Windows`); PlatformDetails `Windows…`.
      windows: /windows/i.test(`${i.Platform ?? ''} ${i.PlatformDetails ?? ''}`),
      ...(i.PrivateIpAddress ? { privateIpAddress: i.PrivateIpAddress } : {}),
    };
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return undefined;
    throw err;
  }
}

/** The restored instance, guarded: only restore-test instances are validated (and sent commands). */
export async function describeRestoredInstance(ec2: EC2Client, instanceId: string): Promise<InstanceFacts> {
  const instance = await describeInstance(ec2, instanceId);
  if (!instance)
    throw new ResourceStateError(
      `restored instance ${instanceId} does not exist (DescribeInstances found nothing)`,
    );
  assertRestoreTestResource(instance.name ?? instance.instanceId, instance.tags, 'validate');
  return instance;
}

async function readStatus(
  ec2: EC2Client,
  instanceId: string,
): Promise<{ state?: string; system: string; instance: string }> {
  const out = await withRetry(() =>
    ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId], IncludeAllInstances: true })),
  );
  const s = out.InstanceStatuses?.find((x) => x.InstanceId === instanceId);
  return {
    state: s?.InstanceState?.Name,
    system: s?.SystemStatus?.Status ?? 'unknown',
    instance: s?.InstanceStatus?.Status ?? 'unknown',
  };
}

const settled = (s: string) => s === 'ok' || s === 'impaired' || s === 'not-applicable';

/**
 * Polls until the instance is running with both checks settled (ok or impaired), the instance has
 * stopped/terminated, or the budget is spent. Returns the last reading.
 */
export async function waitForStatus(
  ec2: EC2Client,
  instanceId: string,
  options: { budgetMs: number; pollMs: number; signal?: AbortSignal },
): Promise<StatusFacts & { state?: string }> {
  const started = Date.now();
  // Hand-rolled: waitUntilInstanceStatusOk knows only ok; impaired and stopped are outcomes here.
  for (;;) {
    const s = await readStatus(ec2, instanceId);
    const waitedMs = Date.now() - started;
    const stopped = s.state !== undefined && !['pending', 'running'].includes(s.state);
    if (
      stopped ||
      (s.state === 'running' && settled(s.system) && settled(s.instance)) ||
      waitedMs + options.pollMs > options.budgetMs ||
      options.signal?.aborted
    ) {
      return { ...s, waitedMs };
    }
    await new Promise((r) => setTimeout(r, options.pollMs));
  }
}
