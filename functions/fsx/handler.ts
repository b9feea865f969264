import { createValidatorHandler } from '../../shared/handler';
import { fsxValidator } from './validator';

/** Lambda handler for `FSx` restore jobs (Lustre, ONTAP, OpenZFS, Windows File Server). */
export const handler = createValidatorHandler(fsxValidator);
