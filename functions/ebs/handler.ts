import { createValidatorHandler } from '../../shared/handler';
import { ebsValidator } from './validator';

/** EventBridge target for EBS restore jobs: the EBS validator wrapped in the restore lifecycle. */
export const handler = createValidatorHandler(ebsValidator);
