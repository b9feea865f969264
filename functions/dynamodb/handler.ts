import { createValidatorHandler } from '../../shared/handler';
import { dynamodbValidator } from './validator';

/** Lambda handler for `DynamoDB` and `DynamoDB.FullyManaged` restore jobs. */
export const handler = createValidatorHandler(dynamodbValidator);
