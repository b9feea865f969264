import { createValidatorHandler } from '../../shared/handler';
import { auroraValidator } from './validator';

/** Lambda handler for Aurora restore tests (EventBridge "Restore Job State Change", resourceType Aurora). */
export const handler = createValidatorHandler(auroraValidator);
