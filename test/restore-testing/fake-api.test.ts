import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BackupClient,
  CreateRestoreTestingPlanCommand,
  CreateRestoreTestingSelectionCommand,
  DeleteRestoreTestingPlanCommand,
  DescribeRestoreJobCommand,
  GetRestoreTestingInferredMetadataCommand,
  GetRestoreTestingSelectionCommand,
  ListRecoveryPointsByResourceCommand,
  ListRestoreTestingPlansCommand,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBackupApi } from '../support/fake-backup';

const execFileP = promisify(execFile);
const RP = 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1';
const DB = 'arn:aws:rds:us-east-1:123456789012:db:orders-prod';

let fake: FakeBackupApi;
let backup: BackupClient;

/** The real AWS CLI pointed at the fake. */
async function aws(...args: string[]): Promise<unknown> {
  const { stdout } = await execFileP(
    'aws',
    ['backup', ...args, '--endpoint-url', fake.endpoint, '--region', 'us-east-1', '--output', 'json'],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
    },
  );
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

beforeAll(async () => {
  fake = new FakeBackupApi();
  fake.restoreTesting.addRecoveryPoint({
    RecoveryPointArn: RP,
    ResourceArn: DB,
    ResourceType: 'RDS',
    BackupVaultName: 'main',
    CreationDate: new Date('2026-12-01T01:00:00Z'),
    InferredMetadata: { dbInstanceIdentifier: 'orders-prod', vpcSecurityGroupIds: '["sg-prod"]' },
  });
  await fake.start();
  backup = new BackupClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  backup.destroy();
  await fake.stop();
});

describe('the Backup fake: restore testing APIs', () => {
  it('creates a plan and a selection the SDK and the AWS CLI read back', async () => {
    const plan = await backup.send(
      new CreateRestoreTestingPlanCommand({
        RestoreTestingPlan: {
          RestoreTestingPlanName: 'nightly',
          ScheduleExpression: 'cron(0 1 ? * * *)',
          RecoveryPointSelection: { Algorithm: 'LATEST_WITHIN_WINDOW', IncludeVaults: ['*'] },
        },
      }),
    );
    expect(plan.RestoreTestingPlanArn).toMatch(
      /^arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly-/,
    );
    expect(plan.CreationTime).toBeInstanceOf(Date);
    await backup.send(
      new CreateRestoreTestingSelectionCommand({
        RestoreTestingPlanName: 'nightly',
        RestoreTestingSelection: {
          RestoreTestingSelectionName: 'orders',
          ProtectedResourceType: 'RDS',
          IamRoleArn: 'arn:aws:iam::123456789012:role/restore',
          ProtectedResourceArns: [DB],
          RestoreMetadataOverrides: { dbSubnetGroupName: 'validators' },
          ValidationWindowHours: 2,
        },
      }),
    );
    const got = await backup.send(
      new GetRestoreTestingSelectionCommand({
        RestoreTestingPlanName: 'nightly',
        RestoreTestingSelectionName: 'orders',
      }),
    );
    expect(got.RestoreTestingSelection).toMatchObject({
      ProtectedResourceArns: [DB],
      RestoreMetadataOverrides: { dbSubnetGroupName: 'validators' },
      ValidationWindowHours: 2,
      RestoreTestingPlanName: 'nightly',
    });

    const plans = (await aws('list-restore-testing-plans')) as {
      RestoreTestingPlans: Array<{ RestoreTestingPlanName: string }>;
    };
    expect(plans.RestoreTestingPlans.map((p) => p.RestoreTestingPlanName)).toEqual(['nightly']);
    const sel = (await aws(
      'get-restore-testing-selection',
      '--restore-testing-plan-name',
      'nightly',
      '--restore-testing-selection-name',
      'orders',
    )) as { RestoreTestingSelection: { ProtectedResourceType: string; ValidationWindowHours: number } };
    expect(sel.RestoreTestingSelection).toMatchObject({
      ProtectedResourceType: 'RDS',
      ValidationWindowHours: 2,
    });
    const listed = (await aws(
      'list-restore-testing-selections',
      '--restore-testing-plan-name',
      'nightly',
    )) as {
      RestoreTestingSelections: Array<{ RestoreTestingSelectionName: string }>;
    };
    expect(listed.RestoreTestingSelections.map((s) => s.RestoreTestingSelectionName)).toEqual(['orders']);
  });

  it('answers the errors of the API model: duplicate, bad name, both ARNs and conditions, unknown plan', async () => {
    const create = (name: string) =>
      backup.send(
        new CreateRestoreTestingPlanCommand({
          RestoreTestingPlan: {
            RestoreTestingPlanName: name,
            ScheduleExpression: 'cron(0 1 ? * * *)',
            RecoveryPointSelection: {},
          },
        }),
      );
    await expect(create('nightly')).rejects.toMatchObject({ name: 'AlreadyExistsException' });
    await expect(create('bad-name')).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(
      backup.send(
        new CreateRestoreTestingSelectionCommand({
          RestoreTestingPlanName: 'nightly',
          RestoreTestingSelection: {
            RestoreTestingSelectionName: 'both',
            ProtectedResourceType: 'RDS',
            IamRoleArn: 'arn:aws:iam::123456789012:role/restore',
            ProtectedResourceArns: ['*'],
            ProtectedResourceConditions: { StringEquals: [{ Key: 'aws:ResourceTag/a', Value: 'b' }] },
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(backup.send(new ListRestoreTestingPlansCommand({ MaxResults: 1 }))).resolves.toMatchObject({
      RestoreTestingPlans: [{ RestoreTestingPlanName: 'nightly' }],
    });
    // A plan with selections cannot be deleted.
    await expect(
      backup.send(new DeleteRestoreTestingPlanCommand({ RestoreTestingPlanName: 'nightly' })),
    ).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(aws('get-restore-testing-plan', '--restore-testing-plan-name', 'nope')).rejects.toThrow(
      /ResourceNotFoundException/,
    );
  });

  it('lists recovery points, infers metadata and runs a started restore job to COMPLETED', async () => {
    const points = await backup.send(new ListRecoveryPointsByResourceCommand({ ResourceArn: DB }));
    expect(points.RecoveryPoints?.[0]).toMatchObject({ RecoveryPointArn: RP, BackupVaultName: 'main' });
    const inferred = (await aws(
      'get-restore-testing-inferred-metadata',
      '--backup-vault-name',
      'main',
      '--recovery-point-arn',
      RP,
    )) as { InferredMetadata: Record<string, string> };
    expect(inferred.InferredMetadata).toEqual({
      dbInstanceIdentifier: 'orders-prod',
      vpcSecurityGroupIds: '["sg-prod"]',
    });
    await expect(
      backup.send(
        new GetRestoreTestingInferredMetadataCommand({ BackupVaultName: 'other', RecoveryPointArn: RP }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    const { RestoreJobId } = await backup.send(
      new StartRestoreJobCommand({
        RecoveryPointArn: RP,
        Metadata: { dbInstanceIdentifier: 'awsbackup-restore-test-orders' },
        IamRoleArn: 'arn:aws:iam::123456789012:role/restore',
        ResourceType: 'RDS',
      }),
    );
    expect(RestoreJobId).toBeTruthy();
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId }));
      statuses.push(job.Status ?? '');
      if (job.Status === 'COMPLETED') {
        expect(job.CreatedResourceArn).toBe(
          'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-orders',
        );
        expect(job.CreatedBy).toBeUndefined();
        break;
      }
    }
    expect(statuses).toEqual(['RUNNING', 'COMPLETED']);
    const cli = (await aws('describe-restore-job', '--restore-job-id', String(RestoreJobId))) as {
      Status: string;
    };
    expect(cli.Status).toBe('COMPLETED');
  });

  it('starts a restore job the AWS CLI sends and reads back', async () => {
    const started = (await aws(
      'start-restore-job',
      '--recovery-point-arn',
      RP,
      '--metadata',
      'dbInstanceIdentifier=awsbackup-restore-test-cli,dbSubnetGroupName=validators',
      '--iam-role-arn',
      'arn:aws:iam::123456789012:role/restore',
      '--resource-type',
      'RDS',
    )) as { RestoreJobId: string };
    expect(started.RestoreJobId).toMatch(/\S/);
    const body = fake.calls.filter((c) => c.operation === 'StartRestoreJob').at(-1)?.body as {
      Metadata: Record<string, string>;
      IdempotencyToken?: string;
    };
    expect(body.Metadata).toEqual({
      dbInstanceIdentifier: 'awsbackup-restore-test-cli',
      dbSubnetGroupName: 'validators',
    });
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = (await aws('describe-restore-job', '--restore-job-id', started.RestoreJobId)) as {
        Status: string;
        CreatedResourceArn?: string;
        RecoveryPointArn: string;
        ResourceType: string;
      };
      statuses.push(job.Status);
      expect(job).toMatchObject({ RecoveryPointArn: RP, ResourceType: 'RDS' });
      if (job.Status === 'COMPLETED') {
        expect(job.CreatedResourceArn).toBe(
          'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-cli',
        );
        break;
      }
    }
    expect(statuses).toEqual(['RUNNING', 'COMPLETED']);
    await expect(
      aws(
        'start-restore-job',
        '--recovery-point-arn',
        'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:no-such-point',
        '--metadata',
        'a=b',
        '--iam-role-arn',
        'arn:aws:iam::123456789012:role/restore',
      ),
    ).rejects.toThrow(/ResourceNotFoundException/);
  });
});
