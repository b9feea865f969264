import { Aws } from 'aws-cdk-lib';
import { RESTORE_TEST_TAG } from '../../shared/guard';
import { arn, statement, type ValidatorTypeSpec } from './spec';

export const ec2: ValidatorTypeSpec = {
  timeoutMinutes: 10,
  database: false,
  statements: () => [
    ...statement(
      'DescribeRestoredInstance',
      [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
      ],
      ['*'],
      'EC2 and SSM Describe/Get actions used here support no resource-level permissions',
    ),
    ...statement(
      'ConsoleOfRestoredInstances',
      ['ec2:GetConsoleOutput'],
      [arn('ec2', 'instance/*')],
      `only instances tagged ${RESTORE_TEST_TAG} (aws:ResourceTag condition); instance ids are generated at restore time`,
      { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    ),
    ...statement(
      'RunCommandOnRestoredInstances',
      ['ssm:SendCommand'],
      [arn('ec2', 'instance/*')],
      `only instances tagged ${RESTORE_TEST_TAG} (ssm:resourceTag condition); instance ids are generated at restore time`,
      { Null: { [`ssm:resourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    ),
    ...statement(
      'RunCommandDocuments',
      ['ssm:SendCommand'],
      [
        `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/AWS-RunShellScript`,
        `arn:${Aws.PARTITION}:ssm:${Aws.REGION}::document/AWS-RunPowerShellScript`,
      ],
      'the two AWS-owned run-script documents',
    ),
  ],
};
