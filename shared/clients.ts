/**
 * AWS SDK clients, created once per process on first use and injectable for tests.
 * The SDK's own retry (standard mode) handles most throttling; shared/retry.ts adds a second layer
 * around calls whose failure would decide a verdict.
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { DocDBClient } from '@aws-sdk/client-docdb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EFSClient } from '@aws-sdk/client-efs';
import { FSxClient } from '@aws-sdk/client-fsx';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { NeptuneClient } from '@aws-sdk/client-neptune';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

export interface Clients {
  readonly backup: BackupClient;
  readonly rds: RDSClient;
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly secrets: SecretsManagerClient;
  readonly sfn: SFNClient;
  readonly lambda: LambdaClient;
  readonly efs: EFSClient;
  readonly fsx: FSxClient;
  readonly docdb: DocDBClient;
  readonly neptune: NeptuneClient;
  readonly sns: SNSClient;
}

export interface ClientOptions {
  readonly region?: string;
  /** Endpoint for every client (local engines, CLI `--endpoint-url`). */
  readonly endpoint?: string;
  /** S3 path-style addressing (needed for moto and most S3-compatible servers). */
  readonly forcePathStyle?: boolean;
  readonly maxAttempts?: number;
}

const ctors = {
  backup: BackupClient,
  rds: RDSClient,
  ec2: EC2Client,
  ssm: SSMClient,
  s3: S3Client,
  dynamodb: DynamoDBClient,
  secrets: SecretsManagerClient,
  sfn: SFNClient,
  lambda: LambdaClient,
  efs: EFSClient,
  fsx: FSxClient,
  docdb: DocDBClient,
  neptune: NeptuneClient,
  sns: SNSClient,
} as const;

/**
 * Returns a Clients object whose members are created on first access. `overrides` replaces any of
 * them (tests, or a caller that already has a configured client).
 */
export function createClients(options: ClientOptions = {}, overrides: Partial<Clients> = {}): Clients {
  const cache: Partial<Record<keyof Clients, unknown>> = { ...overrides };
  const config = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: options.maxAttempts ?? 4,
  };
  const target = {} as Clients;
  for (const key of Object.keys(ctors) as (keyof Clients)[]) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get() {
        if (!cache[key]) {
          const Ctor = ctors[key] as new (cfg: object) => unknown;
          cache[key] = new Ctor(
            key === 's3'
              ? { ...config, forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint) }
              : config,
          );
        }
        return cache[key];
      },
    });
  }
  return target;
}

let defaultClients: Clients | undefined;
/** The process-wide clients (Lambda: created once per cold start). */
export function clients(): Clients {
  defaultClients ??= createClients();
  return defaultClients;
}
