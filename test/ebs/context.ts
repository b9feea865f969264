/** Builds validator contexts for EBS/EC2 tests: a restore job, a parsed config, injected SDK clients. */
import { type Clients, createClients } from '../../shared/clients';
import { type Config, parseConfig } from '../../shared/config/index';
import { localRestoreJob, type RestoreJob } from '../../shared/job';
import { logger } from '../../shared/logger';
import type { ContextInput } from '../../shared/validator';

export function job(input: {
  type: string;
  created?: string;
  source?: string;
  metadata?: Record<string, string>;
  local?: boolean;
}): RestoreJob {
  const base = localRestoreJob({
    resourceType: input.type,
    createdResourceArn: input.created,
    sourceResourceArn: input.source,
    metadata: input.metadata,
  });
  return { ...base, restoreJobId: 'AB12CD34-0003-4F00-9A00-000000000003', local: input.local ?? false };
}

export function config(
  checks: unknown[] = [],
  resourceType = 'EBS',
  extra: Record<string, unknown> = {},
): Config {
  return parseConfig({ version: 1, profiles: [{ name: 'p', match: { resourceType }, checks, ...extra }] });
}

/** `S`: the validator's settings, when the test gives them (else its declared defaults). */
export function contextInput<S extends object = never>(options: {
  job: RestoreJob;
  config: Config;
  clients?: Partial<Clients>;
  mode?: 'lambda' | 'local';
  target?: Record<string, unknown>;
  settings?: S;
  deadlineMs?: number;
}): ContextInput<S> {
  return {
    job: options.job,
    profile: options.config.profiles[0],
    config: options.config,
    logger,
    clients: createClients({ region: 'us-east-1' }, options.clients ?? {}),
    deadline: Date.now() + (options.deadlineMs ?? 60_000),
    mode: options.mode ?? 'lambda',
    target: options.target ?? {},
    settings: options.settings,
  };
}
