import { createValidatorHandler } from '../../shared/handler';
import { rdsValidator } from './validator';

/** Lambda handler for RDS restore tests (EventBridge "Restore Job State Change", resourceType RDS). */
export const handler = createValidatorHandler(rdsValidator);
