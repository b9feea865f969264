import { createValidatorHandler } from '../../shared/handler';
import { ec2Validator } from './validator';

/** EventBridge target for EC2 restore jobs: the EC2 validator wrapped in the restore lifecycle. */
export const handler = createValidatorHandler(ec2Validator);
