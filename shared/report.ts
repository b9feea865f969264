/**
 * Posting a verdict to AWS Backup. A final status (SUCCESSFUL, FAILED, TIMED_OUT) is immutable, so
 * the job's current ValidationStatus is read right before posting, and a refusal because the job is
 * already final is reported as 'already-final' rather than an error.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutRestoreValidationResult.html
 */
import {
  type BackupClient,
  DescribeRestoreJobCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { fitMessage } from './verdict';

export type PostableStatus = 'SUCCESSFUL' | 'FAILED' | 'TIMED_OUT' | 'VALIDATING';
const FINAL = new Set(['SUCCESSFUL', 'FAILED', 'TIMED_OUT']);

/** A ValidationStatus that can no longer change (SUCCESSFUL, FAILED, TIMED_OUT). */
export const isFinalValidationStatus = (status: string | undefined): boolean => FINAL.has(status ?? '');

export interface PostOptions {
  /** Ends both calls, retries included, at the caller's deadline (the client retries transient errors). */
  readonly abortSignal?: AbortSignal;
  /** Skip the DescribeRestoreJob look-up (the caller has just read ValidationStatus). */
  readonly knownValidationStatus?: string;
}

export async function postVerdict(
  backup: BackupClient,
  restoreJobId: string,
  status: PostableStatus,
  message: string,
  options: PostOptions = {},
): Promise<'posted' | 'already-final'> {
  const call = { abortSignal: options.abortSignal };
  const current =
    options.knownValidationStatus ??
    (await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }), call)).ValidationStatus;
  if (isFinalValidationStatus(current)) return 'already-final';
  try {
    await backup.send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: restoreJobId,
        ValidationStatus: status,
        ValidationStatusMessage: fitMessage(message),
      }),
      call,
    );
    return 'posted';
  } catch (err) {
    // Another invocation won the race: the job became final between our read and our write.
    if (isAlreadyFinalError(err)) return 'already-final';
    throw err;
  }
}

function isAlreadyFinalError(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return (
    (e?.name === 'InvalidRequestException' || e?.name === 'ConflictException') &&
    /final|already|cannot be (changed|updated)|SUCCESSFUL|FAILED|TIMED_OUT/i.test(e.message ?? '')
  );
}
