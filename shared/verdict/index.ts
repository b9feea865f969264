/**
 * Verdicts: deciding one from check results (contract 4), posting it to AWS Backup exactly once, and
 * finishing a validation — post, evidence record, sinks — the same way wherever it ends.
 */
export {
  type DecideOptions,
  decideVerdict,
  type FinalVerdict,
  fitMessage,
  MAX_MESSAGE_LENGTH,
  type Verdict,
} from './decide';
export {
  type EvidenceSource,
  type FinishDeps,
  type Finished,
  type FinishInput,
  finishValidation,
  type Posted,
} from './finish';
export { isFinalValidationStatus, type PostableStatus, type PostOptions, postVerdict } from './post';
