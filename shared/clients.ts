/**
 * AWS SDK clients, created on first use and injectable for tests.
 *
 * This module imports no SDK client: each module that uses a client registers its class with
 * `registerClients({ rds: RDSClient })` where it imports the SDK anyway, so a Lambda bundle carries
 * only the clients its validator uses (all fourteen would add ~1.3 MB to every function). Using a
 * client nobody registered is a clear error, which the validator's own tests hit first.
 *
 * One retry layer: every client retries throttling and transient errors itself (the SDK's standard
 * strategy, `maxAttempts` attempts per call, jittered backoff), and every HTTP attempt is bounded: a
 * connection that does not open, or a response that does not start, within its timeout is an error
 * the strategy may retry, never a call that outlives the Lambda. Callers pass the deadline of their
 * work as `abortSignal` to `send`; the SDK stops retrying (also mid-backoff) when it fires.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * @see https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html
 */

import type { BackupClient } from '@aws-sdk/client-backup';
import type { DocDBClient } from '@aws-sdk/client-docdb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { FSxClient } from '@aws-sdk/client-fsx';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { NeptuneClient } from '@aws-sdk/client-neptune';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { ConfiguredRetryStrategy, StandardRetryStrategy } from '@smithy/core/retry';

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
  /** Attempts per call, including the first. Default 5. */
  readonly maxAttempts?: number;
  /** AWS named profile (CLI `--profile`). */
  readonly profile?: string;
  /** Backoff before the n-th retry, in ms; default the SDK's (full jitter; 1 s base for throttling). */
  readonly retryDelayMs?: number | ((attempt: number) => number);
  /** Per attempt: time to open the connection. Default 5 s. */
  readonly connectionTimeoutMs?: number;
  /**
   * Per attempt: time until the response starts (the body may stream longer), and the longest a
   * socket may sit idle. Default 30 s, well under the smallest validation deadline.
   */
  readonly requestTimeoutMs?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The configuration every SDK client of this project gets (pass it to a client built elsewhere, e.g.
 * `new BackupClient(sdkClientConfig({ region }))`): the retry strategy and the HTTP timeouts.
 */
export function sdkClientConfig(options: ClientOptions = {}) {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    maxAttempts,
    retryStrategy:
      options.retryDelayMs === undefined
        ? new StandardRetryStrategy(maxAttempts)
        : new ConfiguredRetryStrategy(maxAttempts, options.retryDelayMs),
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      requestTimeout,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
    },
  };
}

const CLIENT_KEYS = [
  'backup',
  'rds',
  'ec2',
  'ssm',
  's3',
  'dynamodb',
  'secrets',
  'sfn',
  'lambda',
  'efs',
  'fsx',
  'docdb',
  'neptune',
  'sns',
] as const;

// biome-ignore lint/suspicious/noExplicitAny: SDK client constructors take their own config types
export type ClientConstructors = { [K in keyof Clients]: new (...args: any[]) => Clients[K] };
const registry: Partial<ClientConstructors> = {};

/** Makes SDK client classes available to `ctx.clients`; call it where the SDK package is imported. */
export function registerClients(ctors: Partial<ClientConstructors>): void {
  Object.assign(registry, ctors);
}

/**
 * Returns a Clients object whose members are created on first access. `overrides` replaces any of
 * them (tests, or a caller that already has a configured client).
 */
export function createClients(options: ClientOptions = {}, overrides: Partial<Clients> = {}): Clients {
  const cache: Partial<Record<keyof Clients, unknown>> = { ...overrides };
  const target = {} as Clients;
  for (const key of CLIENT_KEYS) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get() {
        if (!cache[key]) {
          const Ctor = registry[key] as (new (cfg: object) => unknown) | undefined;
          if (!Ctor) {
            throw new Error(
              `AWS client "${key}" is not registered: call registerClients({ ${key}: <SDK client class> }) in the module that uses it`,
            );
          }
          // A strategy per client: its retry budget (token bucket) belongs to one service.
          const config = sdkClientConfig(options);
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
