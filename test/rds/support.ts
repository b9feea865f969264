/** Helpers for the RDS/Aurora tests: run a validator in local mode against a real engine. */

import { createClients } from '../../shared/clients';
import { parseConfig } from '../../shared/config/index';
import { localRestoreJob } from '../../shared/job';
import { logger } from '../../shared/logger';
import { runValidator, type ValidationRun, type ValidatorDefinition } from '../../shared/validator';

export interface LocalRunInput {
  readonly checks: unknown[];
  readonly connection?: Record<string, unknown>;
  readonly target: Record<string, unknown>;
  readonly recoveryPointTime?: Date;
  readonly options?: Record<string, unknown>;
  readonly concurrency?: number;
}

/** Runs the validator like `restore-validation check rds` does: local mode, target flags, one profile. */
export async function runLocal<F>(
  validator: ValidatorDefinition<F>,
  input: LocalRunInput,
): Promise<ValidationRun> {
  const config = parseConfig({
    version: 1,
    profiles: [
      {
        name: 'test',
        match: { resourceType: 'RDS' },
        connection: input.connection,
        checks: input.checks,
        options: input.options,
      },
    ],
  });
  const profile = config.profiles[0];
  return runValidator(validator, {
    job: localRestoreJob({ resourceType: 'RDS', recoveryPointCreationDate: input.recoveryPointTime }),
    profile,
    config,
    logger,
    clients: createClients({ region: 'us-east-1' }),
    deadline: Date.now() + 60_000,
    mode: 'local',
    target: input.target,
    settings: {},
  });
}

export const byId = (run: ValidationRun, id: string) => {
  const r = run.results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id}; have ${run.results.map((x) => x.id).join(', ')}`);
  return r;
};
