/**
 * An evidence store in moto (bucket + index table as the stack creates them), and the clients and
 * settings a final-verdict step (EBS helper flow, S3 merge) writes through, so its tests read back
 * what the real sinks stored.
 */
import type { BackupClient } from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type Clients, createClients } from '../../shared/clients';
import { type RuntimeSettings, runtimeSettings } from '../../shared/env';
import { EvidenceStore } from '../../shared/evidence-store';
import { createEvidenceStore } from '../evidence/moto-tables';

export interface MotoEvidence {
  readonly store: EvidenceStore;
  readonly clients: Clients;
  readonly settings: RuntimeSettings;
}

/** The evidence bucket and index table created in moto, the store over them, and its clients. */
export async function motoEvidenceStore(
  endpoint: string,
  region = 'us-east-1',
  /** Explicit credentials (the bench, which must not use the caller's); tests get fake ones from the environment. */
  credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string },
) {
  const creds = credentials ? { credentials } : {};
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true, ...creds });
  const dynamodb = new DynamoDBClient({ endpoint, region, ...creds });
  await createEvidenceStore(s3, dynamodb, 'evidence', 'evidence-index');
  const store = new EvidenceStore({
    s3,
    dynamodb,
    bucket: 'evidence',
    table: 'evidence-index',
    prefix: 'evidence/',
  });
  return { store, s3, dynamodb };
}

export async function motoEvidence(endpoint: string, backup: BackupClient): Promise<MotoEvidence> {
  const { store, s3, dynamodb } = await motoEvidenceStore(endpoint);
  return {
    store,
    clients: createClients({}, { backup, s3, dynamodb }),
    settings: runtimeSettings({
      EVIDENCE_BUCKET: 'evidence',
      EVIDENCE_TABLE: 'evidence-index',
      EVIDENCE_PREFIX: 'evidence/',
      RESTORE_VALIDATION_VERSION: '9.9.9-test',
    }),
  };
}

/** DescribeRestoreJob's answer for a completed restore test awaiting its verdict. */
export const validatingJob = (restoreJobId: string, resourceType: string, createdResourceArn: string) => ({
  RestoreJobId: restoreJobId,
  ResourceType: resourceType,
  Status: 'COMPLETED' as const,
  ValidationStatus: 'VALIDATING' as const,
  AccountId: '123456789012',
  CreatedResourceArn: createdResourceArn,
  CreationDate: new Date('2026-11-20T10:00:00Z'),
  CompletionDate: new Date('2026-11-20T10:12:00Z'),
  CreatedBy: {
    RestoreTestingPlanArn: 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:weekly-abc',
  },
});
