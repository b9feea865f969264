/**
 * Posting a verdict to AWS Backup. A final status (SUCCESSFUL, FAILED, TIMED_OUT) is immutable, so
 * the job's current ValidationStatus is read right before posting. When the write fails, the job's
 * status is read again and that re-read decides: final means 'already-final' (another invocation
 * won the race, or our own write landed and only its answer was lost: either way the job has its one
 * verdict and this caller must not act as its author); not final means the error stands. The
 * exception is never trusted on
 * its own: PutRestoreValidationResult documents no error for "already final", so neither its type nor
 * its message can say what happened.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutRestoreValidationResult.html
 */
import {
  type BackupClient,
  DescribeRestoreJobCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { fitMessage } from './decide';

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
  const readStatus = () => backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }), call);
  const current = options.knownValidationStatus ?? (await readStatus()).ValidationStatus;
  if (isFinalValidationStatus(current)) return 'already-final';
  const text = fitMessage(message);
  try {
    await backup.send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: restoreJobId,
        ValidationStatus: status,
        ValidationStatusMessage: text,
      }),
      call,
    );
    return 'posted';
  } catch (err) {
    // The re-read is the source of truth; if it fails too, the write's own error is the one to report.
    const now = await readStatus().catch(() => undefined);
    if (!now || !isFinalValidationStatus(now.ValidationStatus)) throw err;
    return 'already-final';
  }
}
