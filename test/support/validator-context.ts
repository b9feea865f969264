/**
 * Test helper for validator tests: builds the context runValidator needs (job, profile, clients)
 * without the Lambda lifecycle.
 */

import { parseArn } from '../../shared/arn';
import { type Clients, createClients } from '../../shared/clients';
import { type Config, type Profile, parseConfig } from '../../shared/config/index';
import type { RestoreJob } from '../../shared/job';
import { logger } from '../../shared/logger';
import { RestoreMetadata } from '../../shared/metadata';
import type { ContextInput } from '../../shared/validator';

/** `S`: the validator's settings, when the test gives them (else its declared defaults). */
export interface TestContextInput<S extends object = never> {
  readonly resourceType: string;
  /** Default `AB12CD34-TEST`. */
  readonly restoreJobId?: string;
  readonly createdResourceArn?: string;
  readonly sourceResourceArn?: string;
  readonly recoveryPointCreationDate?: Date;
  readonly metadata?: Record<string, string>;
  /** Checks of the one profile (raw config form); omitted = no profile. */
  readonly checks?: unknown[];
  readonly connection?: Record<string, unknown>;
  readonly options?: Record<string, unknown>;
  readonly mode?: 'lambda' | 'local';
  readonly target?: Record<string, unknown>;
  readonly clients?: Partial<Clients>;
  readonly clientOptions?: { endpoint?: string; region?: string };
  readonly settings?: S;
  readonly deadlineMs?: number;
}

export function testJob<S extends object = never>(input: TestContextInput<S>): RestoreJob {
  return {
    restoreJobId: input.restoreJobId ?? 'AB12CD34-TEST',
    resourceType: input.resourceType,
    status: 'COMPLETED',
    accountId: '123456789012',
    region: 'us-east-1',
    createdResourceArn: input.createdResourceArn,
    created: input.createdResourceArn ? parseArn(input.createdResourceArn) : undefined,
    sourceResourceArn: input.sourceResourceArn,
    source: input.sourceResourceArn ? parseArn(input.sourceResourceArn) : undefined,
    recoveryPointCreationDate: input.recoveryPointCreationDate,
    restoreTestingPlanName: 'nightly_restore_tests',
    metadata: new RestoreMetadata(input.metadata ?? {}),
    local: input.mode === 'local',
  };
}

export function testContext<S extends object = never>(input: TestContextInput<S>): ContextInput<S> {
  const config: Config = parseConfig({
    version: 1,
    profiles:
      input.checks || input.connection || input.options
        ? [
            {
              name: 'test',
              match: { resourceType: input.resourceType },
              ...(input.connection ? { connection: input.connection } : {}),
              ...(input.options ? { options: input.options } : {}),
              checks: input.checks ?? [],
            },
          ]
        : [],
  });
  const profile: Profile | undefined = config.profiles[0];
  return {
    job: testJob(input),
    profile,
    config,
    logger,
    clients: createClients(input.clientOptions ?? {}, input.clients ?? {}),
    deadline: Date.now() + (input.deadlineMs ?? 50_000),
    mode: input.mode ?? 'lambda',
    target: input.target ?? {},
    settings: input.settings,
  };
}
