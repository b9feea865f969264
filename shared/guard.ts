/**
 * The safety guard: validators create, modify or delete only restore-test resources, i.e. resources
 * named `awsbackup-restore-test-…` or tagged `awsbackup-restore-test`, and resources they created
 * themselves (tagged `restore-validation:created-by`).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import { SafetyGuardError } from './errors';

export const RESTORE_TEST_PREFIX = 'awsbackup-restore-test';
export const RESTORE_TEST_TAG = 'awsbackup-restore-test';
/** Tag put on everything this project creates (helper instances, temporary DB instances). */
export const CREATED_BY_TAG = 'restore-validation:created-by';

type Tags =
  | ReadonlyArray<{ Key?: string; Value?: string }>
  | Readonly<Record<string, string | undefined>>
  | undefined;

function tagKeys(tags: Tags): string[] {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags.map((t: { Key?: string }) => t.Key ?? '');
  return Object.keys(tags);
}

/** The last path/colon segment of an ARN or a plain name. */
function nameOf(nameOrArn: string): string {
  return nameOrArn.split(/[:/]/).pop() ?? nameOrArn;
}

export function isRestoreTestResource(nameOrArn: string | undefined, tags?: Tags): boolean {
  if (nameOrArn && nameOf(nameOrArn).startsWith(RESTORE_TEST_PREFIX)) return true;
  return tagKeys(tags).some((k) => k === RESTORE_TEST_TAG || k.startsWith(`${RESTORE_TEST_TAG}`));
}

/** Throws SafetyGuardError unless the resource is a restore-test resource. */
export function assertRestoreTestResource(
  nameOrArn: string | undefined,
  tags?: Tags,
  action = 'touch',
): void {
  if (!isRestoreTestResource(nameOrArn, tags)) {
    throw new SafetyGuardError(
      `refusing to ${action} ${nameOrArn ?? '(unnamed resource)'}: it is neither named ${RESTORE_TEST_PREFIX}-… nor tagged ${RESTORE_TEST_TAG}`,
    );
  }
}

/** Throws unless the resource was created by restore-validation (e.g. before deleting a helper). */
export function assertCreatedByUs(nameOrArn: string, tags: Tags, action = 'delete'): void {
  if (!tagKeys(tags).includes(CREATED_BY_TAG)) {
    throw new SafetyGuardError(
      `refusing to ${action} ${nameOrArn}: it was not created by restore-validation (no ${CREATED_BY_TAG} tag)`,
    );
  }
}
