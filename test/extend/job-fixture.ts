import { parseArn } from '../../shared/arn';
import type { RestoreJob } from '../../shared/job';
import { RestoreMetadata } from '../../shared/metadata';

const created = 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-orders-1a2b';
const source = 'arn:aws:rds:us-east-1:123456789012:db:orders-prod';

/** What loadRestoreJob returns for completed-rds-like jobs (DescribeRestoreJob + GetRestoreJobMetadata). */
export function loadRestoreJobLike(): RestoreJob {
  return {
    restoreJobId: 'AB12CD34-0001-4F00-9A00-000000000001',
    resourceType: 'RDS',
    status: 'COMPLETED',
    accountId: '123456789012',
    region: 'us-east-1',
    createdResourceArn: created,
    created: parseArn(created),
    sourceResourceArn: source,
    source: parseArn(source),
    recoveryPointArn: 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1',
    recoveryPointCreationDate: new Date('2026-11-24T21:00:00Z'),
    creationDate: new Date('2026-11-24T22:00:00Z'),
    completionDate: new Date('2026-11-24T22:20:00Z'),
    restoreTestingPlanArn:
      'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
    restoreTestingPlanName: 'nightly_restore_tests',
    metadata: new RestoreMetadata({
      dbInstanceIdentifier: 'awsbackup-restore-test-orders-1a2b',
      vpcSecurityGroupIds: '["sg-1"]',
    }),
    local: false,
  };
}
