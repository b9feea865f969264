import {
  BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseArn } from '../../shared/arn';
import { parseRestoreJobEvent } from '../../shared/event';
import { hasFinalVerdict, loadRestoreJob, planNameFromArn } from '../../shared/job';
import { RestoreMetadata } from '../../shared/metadata';
import { fixture } from '../support/fixtures';

const backup = mockClient(BackupClient);

beforeEach(() => backup.reset());

describe('loadRestoreJob', () => {
  it('folds DescribeRestoreJob and GetRestoreJobMetadata into one typed context', async () => {
    backup.on(DescribeRestoreJobCommand).resolves({
      RestoreJobId: 'j1',
      ResourceType: 'RDS',
      Status: 'COMPLETED',
      CreatedResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-53a1c2f0',
      SourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:orders-prod',
      RecoveryPointCreationDate: new Date('2026-11-24T21:30:00Z'),
      CreationDate: new Date('2026-11-24T22:00:00Z'),
      CompletionDate: new Date('2026-11-24T22:40:00Z'),
      CreatedBy: {
        RestoreTestingPlanArn:
          'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
      },
      ValidationStatus: 'VALIDATING',
    });
    backup.on(GetRestoreJobMetadataCommand).resolves({
      RestoreJobId: 'j1',
      Metadata: {
        DBInstanceIdentifier: 'awsbackup-restore-test-53a1c2f0',
        VpcSecurityGroupIds: '["sg-1","sg-2"]',
      },
    });
    const job = await loadRestoreJob(backup as unknown as BackupClient, 'j1');
    expect(job.created?.resourceType).toBe('db');
    expect(job.created?.resourceId).toBe('awsbackup-restore-test-53a1c2f0');
    expect(job.source?.resourceId).toBe('orders-prod');
    expect(job.restoreTestingPlanName).toBe('nightly_restore_tests');
    expect(job.recoveryPointCreationDate?.toISOString()).toBe('2026-11-24T21:30:00.000Z');
    expect(job.metadata.get('dbInstanceIdentifier')).toBe('awsbackup-restore-test-53a1c2f0');
    expect(job.metadata.getList('vpcsecuritygroupids')).toEqual(['sg-1', 'sg-2']);
    expect(hasFinalVerdict(job)).toBe(false);
  });

  it('fills in from the event what the API leaves out', async () => {
    backup.on(DescribeRestoreJobCommand).resolves({ RestoreJobId: 'AB12CD34-0005-4F00-9A00-000000000005' });
    backup.on(GetRestoreJobMetadataCommand).resolves({});
    const event = parseRestoreJobEvent(fixture('completed-s3.json'));
    const job = await loadRestoreJob(backup as unknown as BackupClient, event.detail.restoreJobId, event);
    expect(job.resourceType).toBe('S3');
    expect(job.created?.resourceId).toBe('awsbackup-restore-test-9c8b7a65');
    expect(job.restoreTestingPlanName).toBe('nightly_restore_tests');
    expect(job.region).toBe('us-east-1');
  });

  it('leaves retries to the client: a non-transient error is one call', async () => {
    backup.on(DescribeRestoreJobCommand).rejects(
      Object.assign(new Error('no such job'), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    backup.on(GetRestoreJobMetadataCommand).resolves({});
    await expect(loadRestoreJob(backup as unknown as BackupClient, 'j')).rejects.toThrow('no such job');
    expect(backup.commandCalls(DescribeRestoreJobCommand)).toHaveLength(1);
  });
});

describe('RestoreMetadata', () => {
  const m = new RestoreMetadata({
    SubnetId: 'subnet-1',
    securityGroupIds: '["sg-1"]',
    plain: 'a, b',
    blank: ' ',
    Flag: 'TRUE',
  });
  it('looks keys up case-insensitively and treats blanks as absent', () => {
    expect(m.get('subnetid')).toBe('subnet-1');
    expect(m.get('blank')).toBeUndefined();
  });
  it('decodes JSON-encoded and comma-separated lists', () => {
    expect(m.getList('SecurityGroupIds')).toEqual(['sg-1']);
    expect(m.getList('plain')).toEqual(['a', 'b']);
    expect(m.getList('missing')).toEqual([]);
    expect(m.getBoolean('flag')).toBe(true);
  });
});

describe('ARNs and plan names', () => {
  it('parses the ARN shapes of every type', () => {
    expect(parseArn('arn:aws:s3:::awsbackup-restore-test-9c8b7a65')?.resourceId).toBe(
      'awsbackup-restore-test-9c8b7a65',
    );
    expect(parseArn('arn:aws:dynamodb:us-east-1:1:table/t1')).toMatchObject({
      resourceType: 'table',
      resourceId: 't1',
    });
    expect(parseArn('arn:aws:ec2:us-east-1:1:volume/vol-1')).toMatchObject({
      service: 'ec2',
      resourceType: 'volume',
      resourceId: 'vol-1',
    });
    expect(parseArn('arn:aws:rds:us-east-1:1:cluster:c1')).toMatchObject({
      resourceType: 'cluster',
      resourceId: 'c1',
    });
    expect(parseArn('not-an-arn')).toBeUndefined();
  });
  it('drops the random suffix AWS appends to plan names', () => {
    expect(
      planNameFromArn('arn:aws:backup:us-east-1:1:restore-testing-plan:nightly_restore_tests-1a2b3c4d'),
    ).toBe('nightly_restore_tests');
    expect(planNameFromArn(undefined)).toBeUndefined();
  });
});
