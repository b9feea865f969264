import { createValidatorHandler } from '../../shared/handler';
import { s3Validator } from './validator';

/** The S3 validator Lambda: the validator wrapped in the shared restore lifecycle. */
export const handler = createValidatorHandler(s3Validator);
