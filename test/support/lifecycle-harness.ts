/** A restore job in the Backup fake built from a fixture event, plus a BackupClient pointed at the fake. */
import { BackupClient } from '@aws-sdk/client-backup';
import { sdkClientConfig } from '../../shared/clients';
import type { FakeBackupApi } from './fake-backup';

export function jobFromEvent(
  fake: FakeBackupApi,
  event: { detail: Record<string, unknown> },
  extra: Record<string, unknown> = {},
) {
  const d = event.detail;
  fake.addJob({
    RestoreJobId: String(d.restoreJobId),
    ResourceType: String(d.resourceType),
    Status: String(d.status ?? d.state),
    CreatedResourceArn: (d.createdResourceArn as string) || undefined,
    SourceResourceArn: d.sourceResourceArn as string,
    RecoveryPointArn: d.recoveryPointArn as string,
    RestoreTestingPlanArn: d.restoreTestingPlanArn as string | undefined,
    CreationDate: new Date(String(d.creationDate)),
    CompletionDate: new Date(String(d.completionDate)),
    RecoveryPointCreationDate: new Date('2026-11-24T21:30:00Z'),
    Metadata: {
      DBInstanceIdentifier: 'awsbackup-restore-test-53a1c2f0',
      vpcSecurityGroupIds: '["sg-1","sg-2"]',
    },
    ...extra,
  });
}

/** The project's client configuration (one retry layer, timeouts) without backoff delays. */
export function backupClient(endpoint: string): BackupClient {
  return new BackupClient(sdkClientConfig({ endpoint, region: 'us-east-1', retryDelayMs: 0 }));
}
