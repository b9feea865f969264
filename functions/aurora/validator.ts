/**
 * The Aurora validator. AWS Backup restores an Aurora cluster without any instance, so nothing answers
 * SQL until one exists: when the profile has SQL checks, the validator creates a temporary instance
 * of the smallest class the engine allows (`db.serverless` on a Serverless v2 cluster), waits until
 * it is available within the validation deadline (keeping time back for the checks), runs the checks
 * against it and always deletes it again in clean-up — also when a check or the validator failed. A
 * temporary instance that cannot be deleted makes the verdict FAILED (it would keep AWS Backup from
 * deleting the cluster). Nothing is created or deleted on a cluster that is not a restore-test cluster.
 * Without SQL checks only DescribeDBClusters state checks run (as for non-PostgreSQL/MySQL engines).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */

import { RDSClient } from '@aws-sdk/client-rds';
import { registerClients } from '../../shared/clients';
import { rdsControlPlane, TemporaryInstance } from '../../shared/cluster/temporary-instance';
import { ResourceStateError } from '../../shared/errors';
import { SqlSession } from '../../shared/sql/index';
import { type DatabaseFacts, databaseChecks, localSession, wantsSql } from '../../shared/sql-database/checks';
import { lambdaEndpoint, sourceEndpoint } from '../../shared/sql-database/sql-target';
import { describeRestored, sqlEngineOf } from '../../shared/sql-database/state';
import { defineValidator, type ValidationContext } from '../../shared/validator';

registerClients({ rds: RDSClient });

export interface AuroraFacts extends DatabaseFacts {
  /** The temporary instance the checks ran on, if one was created (or adopted after a retry). */
  readonly temporaryInstance?: {
    readonly identifier: string;
    readonly instanceClass: string;
    readonly reused: boolean;
  };
}

/** Time kept back after the instance is available: for the checks themselves and the clean-up. */
const DEFAULT_CHECKS_RESERVE_MS = 120_000;

// gather() and cleanup() get the same context object: the temporary instance is remembered here, not
// in the facts, because the facts do not exist when gather() fails half-way (e.g. while waiting).
const temporaryInstances = new WeakMap<ValidationContext, TemporaryInstance>();

function auroraOptions(ctx: ValidationContext): { instanceClass?: string; reserveMs: number } {
  const o = ctx.profile?.options ?? {};
  return {
    instanceClass: typeof o.temporaryInstanceClass === 'string' ? o.temporaryInstanceClass : undefined,
    reserveMs:
      typeof o.checksReserveSeconds === 'number' ? o.checksReserveSeconds * 1000 : DEFAULT_CHECKS_RESERVE_MS,
  };
}

export const auroraValidator = defineValidator<AuroraFacts>({
  name: 'aurora',
  resourceTypes: ['Aurora'],
  async gather(ctx) {
    if (ctx.mode === 'local') return localSession(ctx);
    const { db, source } = await describeRestored(ctx, 'cluster');
    const sqlEngine = sqlEngineOf(db.engine);
    if (!sqlEngine || !wantsSql(ctx)) return { db, source, sqlEngine };

    const options = auroraOptions(ctx);
    const temp = new TemporaryInstance({
      controlPlane: rdsControlPlane(ctx.clients.rds),
      clusterIdentifier: db.identifier,
      instanceClass: options.instanceClass,
      createdBy: ctx.job.restoreJobId,
      signal: ctx.signal,
      onEvent: (message, attributes) => ctx.logger.info(message, attributes),
    });
    temporaryInstances.set(ctx, temp);
    const created = await temp.create();
    ctx.note('temporaryInstance', created);
    const instance = await temp.waitUntilAvailable(ctx.deadline - options.reserveMs);
    const endpoint = instance.endpoint ?? db.endpoint;
    if (!endpoint)
      throw new ResourceStateError(
        `temporary instance ${created.identifier} is available but has no endpoint`,
      );
    const target = lambdaEndpoint(ctx, {
      engine: sqlEngine,
      host: endpoint.host,
      port: endpoint.port || db.endpoint?.port || 0,
    });
    const session = new SqlSession(target, { source: sourceEndpoint(ctx, target) });
    return { db, source, sqlEngine, session, temporaryInstance: created };
  },
  checks: (ctx, facts) => databaseChecks(ctx, facts, 'aurora'),
  async cleanup(ctx, facts) {
    try {
      await facts?.session?.close();
    } finally {
      const temp = temporaryInstances.get(ctx);
      temporaryInstances.delete(ctx);
      if (temp) {
        // Throws LeftoverInstanceError / SafetyGuardError: the runner turns that into an error result → FAILED.
        const outcome = await temp.delete();
        ctx.note('temporaryInstanceDeleted', outcome);
      }
    }
  },
});
