/**
 * EBS control-plane facts: the restored volume and its source, from DescribeVolumes, and the built-in
 * state checks over them (state, size, encryption). Pure checks over gathered facts.
 * @see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVolumes.html
 */
import { DescribeVolumesCommand, type EC2Client, type Volume } from '@aws-sdk/client-ec2';
import { type CheckDefinition, defineCheck, fail, pass, skip } from '../../shared/checks';
import { ResourceStateError, reasonOf } from '../../shared/errors';
import { assertRestoreTestResource } from '../../shared/guard';
import { type RetryOptions, withRetry } from '../../shared/retry';

export interface VolumeFacts {
  readonly volumeId: string;
  readonly state: string;
  readonly sizeGiB: number;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly availabilityZone: string;
  readonly volumeType?: string;
  readonly name?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Instance ids the volume is attached to (a fresh restore has none). */
  readonly attachedTo: readonly string[];
}

/** The source volume, or why it could not be described (deleted, other account, no permission). */
export type SourceFacts =
  | { readonly found: true; readonly volume: VolumeFacts }
  | { readonly found: false; readonly reason: string };

function toFacts(v: Volume): VolumeFacts {
  const tags: Record<string, string> = {};
  for (const t of v.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  return {
    volumeId: v.VolumeId ?? '',
    state: v.State ?? 'unknown',
    sizeGiB: v.Size ?? 0,
    encrypted: v.Encrypted === true,
    kmsKeyId: v.KmsKeyId,
    availabilityZone: v.AvailabilityZone ?? '',
    volumeType: v.VolumeType,
    name: tags.Name,
    tags,
    attachedTo: (v.Attachments ?? []).map((a) => a.InstanceId ?? '').filter(Boolean),
  };
}

/** Describes one volume; undefined when it does not exist. */
export async function describeVolume(
  ec2: EC2Client,
  volumeId: string,
  retry: RetryOptions = {},
): Promise<VolumeFacts | undefined> {
  try {
    const out = await withRetry(() => ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })), retry);
    const v = out.Volumes?.[0];
    return v ? toFacts(v) : undefined;
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidVolume.NotFound') return undefined;
    throw err;
  }
}

/**
 * The restored volume, guarded: it must be a restore-test resource (named or tagged
 * `awsbackup-restore-test`), or nothing else is done with it.
 */
export async function describeRestoredVolume(
  ec2: EC2Client,
  volumeId: string,
  retry: RetryOptions = {},
): Promise<VolumeFacts> {
  const volume = await describeVolume(ec2, volumeId, retry);
  if (!volume)
    throw new ResourceStateError(
      `restored volume ${volumeId} does not exist (DescribeVolumes found nothing)`,
    );
  assertRestoreTestResource(volume.name ?? volume.volumeId, volume.tags, 'validate');
  return volume;
}

/** The source volume for comparison; never fails the validation by itself. */
export async function describeSource(
  ec2: EC2Client,
  sourceVolumeId: string | undefined,
  retry: RetryOptions = {},
): Promise<SourceFacts> {
  if (!sourceVolumeId?.startsWith('vol-')) return { found: false, reason: 'the job names no source volume' };
  try {
    const volume = await describeVolume(ec2, sourceVolumeId, retry);
    return volume
      ? { found: true, volume }
      : { found: false, reason: `source volume ${sourceVolumeId} no longer exists` };
  } catch (err) {
    return {
      found: false,
      reason: `source volume ${sourceVolumeId} could not be described: ${reasonOf(err)}`,
    };
  }
}

export interface VolumeStateInput {
  readonly volume: VolumeFacts;
  readonly source: SourceFacts;
}

/** Built-in state checks: available, size and encryption against the source. */
export function volumeStateChecks<F>(select: (facts: F) => VolumeStateInput): CheckDefinition<F>[] {
  return [
    defineCheck<F>({
      id: 'volume-state',
      description: 'the restored volume is available and attached to nothing',
      run: (f) => {
        const { volume } = select(f);
        if (volume.state !== 'available') {
          const to = volume.attachedTo.length ? ` (attached to ${volume.attachedTo.join(', ')})` : '';
          return fail(`volume ${volume.volumeId} is ${volume.state}${to}, expected available`, {
            state: volume.state,
          });
        }
        return pass(`volume ${volume.volumeId} is available in ${volume.availabilityZone}`, {
          state: volume.state,
          availabilityZone: volume.availabilityZone,
          sizeGiB: volume.sizeGiB,
        });
      },
    }),
    defineCheck<F>({
      id: 'volume-size',
      description: 'the restored volume is as large as its source',
      run: (f) => {
        const { volume, source } = select(f);
        if (volume.sizeGiB <= 0) return fail(`volume ${volume.volumeId} reports size ${volume.sizeGiB} GiB`);
        if (!source.found)
          return skip(`size ${volume.sizeGiB} GiB not compared: ${source.reason}`, {
            sizeGiB: volume.sizeGiB,
          });
        const s = source.volume.sizeGiB;
        if (volume.sizeGiB < s)
          return fail(`restored ${volume.sizeGiB} GiB is smaller than the source's ${s} GiB`, {
            sizeGiB: volume.sizeGiB,
            sourceSizeGiB: s,
          });
        return pass(
          volume.sizeGiB === s
            ? `${s} GiB, same as the source`
            : `${volume.sizeGiB} GiB (source ${s} GiB, restored larger)`,
          { sizeGiB: volume.sizeGiB, sourceSizeGiB: s },
        );
      },
    }),
    defineCheck<F>({
      id: 'volume-encryption',
      description: 'the restored volume is encrypted when its source is',
      run: (f) => {
        const { volume, source } = select(f);
        if (!source.found) {
          return skip(
            `encryption (${volume.encrypted ? 'encrypted' : 'not encrypted'}) not compared: ${source.reason}`,
          );
        }
        if (source.volume.encrypted && !volume.encrypted) {
          return fail(`source ${source.volume.volumeId} is encrypted but the restored volume is not`);
        }
        return pass(volume.encrypted ? 'encrypted' : 'not encrypted, like the source', {
          encrypted: volume.encrypted,
          sourceEncrypted: source.volume.encrypted,
        });
      },
    }),
  ];
}
