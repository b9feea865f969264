import { RESTORE_TEST_TAG } from '../../shared/guard';
import { ssmCommandKind } from '../../shared/ssm/kinds';
import { arn, type ResourceTypeModule, statement } from '../resource-type';
import { consoleOutputKind, httpKind } from './kinds';

export const ec2: ResourceTypeModule = {
  validator: async () => (await import('./validator')).ec2Validator,
  checkKinds: [ssmCommandKind, httpKind, consoleOutputKind],
  timeoutMinutes: 10,
  database: false,
  statements: ({ aws }) => [
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
      [arn(aws, 'ec2', 'instance/*')],
      `only instances tagged ${RESTORE_TEST_TAG} (aws:ResourceTag condition); instance ids are generated at restore time`,
      { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    ),
    ...statement(
      'RunCommandOnRestoredInstances',
      ['ssm:SendCommand'],
      [arn(aws, 'ec2', 'instance/*')],
      `only instances tagged ${RESTORE_TEST_TAG} (ssm:resourceTag condition); instance ids are generated at restore time`,
      { Null: { [`ssm:resourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    ),
    ...statement(
      'RunCommandDocuments',
      ['ssm:SendCommand'],
      [
        `arn:${aws.partition}:ssm:${aws.region}::document/AWS-RunShellScript`,
        `arn:${aws.partition}:ssm:${aws.region}::document/AWS-RunPowerShellScript`,
      ],
      'the two AWS-owned run-script documents',
    ),
  ],
};
