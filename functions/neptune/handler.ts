import { createValidatorHandler } from '../../shared/handler';
import { neptuneValidator } from './validator';

/** Lambda handler for `Neptune` restore jobs. */
export const handler = createValidatorHandler(neptuneValidator);
