/**
 * Verdict rules (DESIGN.md, contract 4): FAILED if any check fails or errors; SUCCESSFUL if at least
 * one check passed and none failed; nothing checked is FAILED unless the profile says otherwise.
 * The message names failed checks first and fits in 1,000 characters.
 */
import type { CheckResult } from '../checks';

export type FinalVerdict = 'SUCCESSFUL' | 'FAILED';

export interface Verdict {
  readonly verdict: FinalVerdict;
  readonly message: string;
  readonly checks: readonly CheckResult[];
}

/** PutRestoreValidationResult's ValidationStatusMessage limit we keep to. */
export const MAX_MESSAGE_LENGTH = 1000;

export interface DecideOptions {
  /** A validation that ran no check is FAILED (default true). */
  readonly failWhenNothingChecked?: boolean;
}

export function decideVerdict(results: readonly CheckResult[], options: DecideOptions = {}): Verdict {
  const failWhenNothingChecked = options.failWhenNothingChecked ?? true;
  const bad = results.filter((r) => r.status === 'fail' || r.status === 'error');
  const passed = results.filter((r) => r.status === 'pass');
  const skipped = results.filter((r) => r.status === 'skip');
  let verdict: FinalVerdict;
  let head: string;
  if (bad.length > 0) {
    verdict = 'FAILED';
    head = `${bad.length} of ${results.length} checks failed`;
  } else if (passed.length > 0) {
    verdict = 'SUCCESSFUL';
    head = `${passed.length} of ${results.length} checks passed`;
  } else {
    verdict = failWhenNothingChecked ? 'FAILED' : 'SUCCESSFUL';
    head = results.length === 0 ? 'no check ran' : `no check passed (${skipped.length} skipped)`;
    head += failWhenNothingChecked ? ': nothing was verified' : ' (allowed by failWhenNothingChecked: false)';
  }
  const parts = [
    ...bad.map((r) => `${r.id} ${r.status === 'error' ? 'error' : 'failed'}: ${r.detail}`),
    ...(passed.length ? [`passed: ${passed.map((r) => r.id).join(', ')}`] : []),
    ...(skipped.length ? [`skipped: ${skipped.map((r) => r.id).join(', ')}`] : []),
  ];
  return { verdict, message: fitMessage(`${head}. ${parts.join('; ')}`.trim()), checks: results };
}

/** Collapses white space and truncates to the message limit with an ellipsis. */
export function fitMessage(message: string, max = MAX_MESSAGE_LENGTH): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
