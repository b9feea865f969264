/** Shared set-up for the extension tests: a restore job context and a runValidator input around a config. */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  type Clients,
  type Config,
  type ContextInput,
  createClients,
  localRestoreJob,
  matchProfile,
  type RestoreJob,
} from 'restore-validation';
import { logger } from '../../shared/logger';
import { loadRestoreJobLike } from './job-fixture';

export const RESTORED_ARN = 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-orders-1a2b';
export const SOURCE_ARN = 'arn:aws:rds:us-east-1:123456789012:db:orders-prod';

/** A restore job as the lifecycle builds it for a real restore test. */
export function restoreJob(overrides: Partial<RestoreJob> = {}): RestoreJob {
  return { ...loadRestoreJobLike(), ...overrides };
}

export function localJob(resourceType = 'RDS'): RestoreJob {
  return localRestoreJob({ resourceType, createdResourceArn: RESTORED_ARN, sourceResourceArn: SOURCE_ARN });
}

/** The runValidator input for `job` under `config`, with the profile matched as the lifecycle would. */
export function contextFor(
  config: Config,
  job: RestoreJob,
  opts: {
    lambda?: LambdaClient;
    clients?: Clients;
    mode?: 'lambda' | 'local';
    deadlineMs?: number;
    target?: Record<string, unknown>;
  } = {},
): ContextInput {
  const profile = matchProfile(config, {
    resourceType: job.resourceType,
    sourceResourceArn: job.sourceResourceArn,
    createdResourceArn: job.createdResourceArn,
    restoreTestingPlanName: job.restoreTestingPlanName,
  });
  return {
    job,
    profile,
    config,
    logger,
    clients:
      opts.clients ?? createClients({ region: 'us-east-1' }, opts.lambda ? { lambda: opts.lambda } : {}),
    deadline: Date.now() + (opts.deadlineMs ?? 60_000),
    mode: opts.mode ?? 'lambda',
    target: opts.target ?? {},
    settings: {},
  };
}
