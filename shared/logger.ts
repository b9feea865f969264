import { Logger } from '@aws-lambda-powertools/logger';

/** One Powertools logger for the process; job keys are appended per invocation by the lifecycle. */
export const logger = new Logger({ serviceName: 'restore-validation' });
export type { Logger };
