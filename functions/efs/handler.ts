import { createValidatorHandler } from '../../shared/handler';
import { efsValidator } from './validator';

/** Lambda handler for `EFS` restore jobs. */
export const handler = createValidatorHandler(efsValidator);
