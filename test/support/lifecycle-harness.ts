/**
 * The Backup restore API around a validator under test: a restore job in the Backup fake built from
 * a fixture event, plus a BackupClient pointed at the fake; or, for handler tests that mock the
 * BackupClient with aws-sdk-client-mock, the one completed job it answers and the verdicts posted.
 * Also the Lambda context and config file a deployed handler is called with.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import { defineCheck, pass } from '../../shared/checks';
import { sdkClientConfig } from '../../shared/clients';
import { deferred } from './deferred';
import { type Moto, startMoto } from './engines';
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

/**
 * Answers DescribeRestoreJob and GetRestoreJobMetadata for one completed restore test of the nightly
 * plan (recovery point of 2026-11-24 22:00 UTC), and accepts every PutRestoreValidationResult.
 */
export function mockCompletedJob(
  backup: AwsClientStub<BackupClient>,
  job: {
    readonly restoreJobId: string;
    readonly resourceType: string;
    readonly createdResourceArn: string;
    readonly sourceResourceArn: string;
    readonly metadata: Record<string, string>;
  },
): void {
  backup.on(DescribeRestoreJobCommand).resolves({
    RestoreJobId: job.restoreJobId,
    Status: 'COMPLETED',
    ResourceType: job.resourceType,
    CreatedResourceArn: job.createdResourceArn,
    SourceResourceArn: job.sourceResourceArn,
    RecoveryPointCreationDate: new Date('2026-11-24T22:00:00Z'),
    CreatedBy: {
      RestoreTestingPlanArn:
        'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
    },
  });
  backup
    .on(GetRestoreJobMetadataCommand)
    .resolves({ RestoreJobId: job.restoreJobId, Metadata: job.metadata });
  backup.on(PutRestoreValidationResultCommand).resolves({});
}

/** The verdict posted after VALIDATING, if any, as the mocked BackupClient received it. */
export function finalVerdict(backup: AwsClientStub<BackupClient>) {
  return backup
    .commandCalls(PutRestoreValidationResultCommand)
    .map((c) => c.args[0].input)
    .find((p) => p.ValidationStatus !== 'VALIDATING');
}

/** The context Lambda passes a deployed validator's handler, two minutes before its timeout. */
export function lambdaContext(functionName: string): Context {
  return {
    functionName,
    functionVersion: '1',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: 'g',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 120_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Writes `config` as config.json in a new temporary folder and points RESTORE_VALIDATION_CONFIG at
 * it, as a deployed handler reads its config. Returns the folder; the caller removes it and unstubs.
 */
export function stubConfigFile(prefix: string, config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  vi.stubEnv('RESTORE_VALIDATION_CONFIG', join(dir, 'config.json'));
  return dir;
}

/**
 * Powertools' idempotency store on DynamoDB in moto, on a fresh table for each test of the describe
 * it is called in (every test there delivers the same job). Returns the current test's store.
 */
export function idempotencyStorePerTest(tablePrefix: string): () => DynamoDBPersistenceLayer {
  let moto: Moto;
  let ddb: DynamoDBClient;
  let persistence: DynamoDBPersistenceLayer;
  let tableNo = 0;
  beforeAll(async () => {
    moto = await startMoto();
    ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  });
  beforeEach(async () => {
    tableNo += 1;
    const tableName = `${tablePrefix}${tableNo}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      }),
    );
    persistence = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: ddb });
  });
  afterAll(async () => moto?.stop());
  return () => persistence;
}

/** A check that holds the first run inside it until released; later runs pass at once. */
export function heldCheck() {
  const entered = deferred();
  const release = deferred();
  let runs = 0;
  const check = defineCheck({
    id: 'held',
    run: async () => {
      runs += 1;
      if (runs === 1) {
        entered.resolve();
        await release.promise;
      }
      return pass('');
    },
  });
  return { check, entered, release, runs: () => runs };
}
