/**
 * The safety guard: validators create, modify or delete only restore-test resources, i.e. resources
 * named `awsbackup-restore-test-…` or tagged `awsbackup-restore-test`, and resources they created
 * themselves (tagged `restore-validation:created-by`).
 *
 * The rule is exact on purpose: the tag key is `awsbackup-restore-test` itself (not a key that only
 * starts with it), the name is checked on the resource id alone (the final segment of an ARN, which
 * must be one segment), it must be the prefix, a `-` and at least one more character
 * (`awsbackup-restore-tester-prod` is not one), and control characters such as a trailing newline
 * never pass. An ARN of another account fails even when it is named or tagged like a restore test.
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

export interface GuardOptions {
  /**
   * The account the validator works in (the restore job's account). When given, an ARN of any other
   * account is refused whatever its name and tags.
   */
  readonly accountId?: string;
}

function tagKeys(tags: Tags): string[] {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags.map((t: { Key?: string }) => t.Key ?? '');
  return Object.keys(tags);
}

/** `awsbackup-restore-test-` and one or more name characters, nothing before or after. */
const RESTORE_TEST_NAME = /^awsbackup-restore-test-[A-Za-z0-9._-]+$/;

/**
 * The resource id an ARN or plain name carries: for `arn:…:db:x`, `arn:…:table/x` the part after the
 * resource type, for S3 (`arn:aws:s3:::bucket`) the whole resource. Undefined when the ARN is
 * malformed, so a guard never guesses.
 */
function resourceIdOf(nameOrArn: string): string | undefined {
  if (!nameOrArn.startsWith('arn:')) return nameOrArn;
  const parts = nameOrArn.split(':');
  if (parts.length < 6) return undefined;
  const resource = parts.slice(5).join(':');
  if (parts[2] === 's3') return resource;
  const m = /^[A-Za-z0-9-]+[/:](.*)$/.exec(resource);
  return m ? m[1] : resource;
}

function accountOf(nameOrArn: string | undefined): string | undefined {
  if (!nameOrArn?.startsWith('arn:')) return undefined;
  return nameOrArn.split(':')[4] || undefined;
}

/** True when the name or ARN follows the restore-test name rule (see the module comment). */
export function hasRestoreTestName(nameOrArn: string | undefined): boolean {
  if (!nameOrArn) return false;
  const id = resourceIdOf(nameOrArn);
  return id !== undefined && RESTORE_TEST_NAME.test(id);
}

export function isRestoreTestResource(
  nameOrArn: string | undefined,
  tags?: Tags,
  options: GuardOptions = {},
): boolean {
  const account = accountOf(nameOrArn);
  if (options.accountId && account && account !== options.accountId) return false;
  return hasRestoreTestName(nameOrArn) || tagKeys(tags).includes(RESTORE_TEST_TAG);
}

// Control characters shown escaped, so a refused name cannot forge a second log or message line.
const printable = (s: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is matched
  s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));

/** Throws SafetyGuardError unless the resource is a restore-test resource. */
export function assertRestoreTestResource(
  nameOrArn: string | undefined,
  tags?: Tags,
  action = 'touch',
  options: GuardOptions = {},
): void {
  if (!isRestoreTestResource(nameOrArn, tags, options)) {
    const account = accountOf(nameOrArn);
    const why =
      options.accountId && account && account !== options.accountId
        ? `it belongs to account ${account}, not ${options.accountId}`
        : `it is neither named ${RESTORE_TEST_PREFIX}-… nor tagged ${RESTORE_TEST_TAG}`;
    throw new SafetyGuardError(
      `refusing to ${action} ${printable(nameOrArn ?? '(unnamed resource)')}: ${why}`,
    );
  }
}

/**
 * Throws SafetyGuardError when an ARN names an account other than `accountId` (the restore job's).
 * Names without an account (plain names, S3 bucket ARNs) pass: the caller's own account is implied.
 */
export function assertSameAccount(
  nameOrArn: string | undefined,
  accountId: string | undefined,
  action = 'touch',
): void {
  const account = accountOf(nameOrArn);
  if (accountId && account && account !== accountId)
    throw new SafetyGuardError(
      `refusing to ${action} ${printable(nameOrArn ?? '')}: it belongs to account ${account}, not ${accountId}`,
    );
}

/** Throws unless the resource was created by restore-validation (e.g. before deleting a helper). */
export function assertCreatedByUs(nameOrArn: string, tags: Tags, action = 'delete'): void {
  if (!tagKeys(tags).includes(CREATED_BY_TAG)) {
    throw new SafetyGuardError(
      `refusing to ${action} ${nameOrArn}: it was not created by restore-validation (no ${CREATED_BY_TAG} tag)`,
    );
  }
}
