import { createValidatorHandler } from '../../shared/handler';
import { documentdbValidator } from './validator';

/** Lambda handler for `DocumentDB` restore jobs. */
export const handler = createValidatorHandler(documentdbValidator);
