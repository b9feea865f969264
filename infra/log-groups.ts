/**
 * Log groups whose names matter to CloudWatch Logs (kept apart from restore-validation.ts so
 * sub-constructs can import it without an import cycle).
 */
import { Aws, Fn, aws_logs as logs, Names, RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A Step Functions log group under `/aws/vendedlogs/states/`, named after the deployed stack and the
 * construct path. Step Functions delivers logs as a vended log source: for groups outside that
 * prefix it appends to the account's CloudWatch Logs resource policy, which is limited to 5,120
 * characters and fills up in busy accounts (state machine creation then fails).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html
 */
export function stateMachineLogGroup(
  scope: Construct,
  id: string,
  retention: logs.RetentionDays,
): logs.LogGroup {
  const path = Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' });
  return new logs.LogGroup(scope, id, {
    logGroupName: Fn.join('', ['/aws/vendedlogs/states/', Aws.STACK_NAME, `-${path}-${id}`]),
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
