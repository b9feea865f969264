/**
 * The RDS validator: proves a restored DB instance is usable and holds the right data.
 * Facts come from DescribeDBInstances (state, engine and version against the source, encryption,
 * public access, the restore-test name/tag); the profile's SQL checks then run read-only against the
 * instance's endpoint. Oracle, SQL Server and Db2 instances get the state checks only.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { unhandledProfileChecks } from '../../shared/check-implementations';
import type { CheckDefinition } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import { ResourceStateError } from '../../shared/errors';
import { type SqlEngine, SqlSession } from '../../shared/sql/index';
import { dbOptions, localSession, sqlChecksFor, wantsSql } from '../../shared/sql-database/checks';
import { lambdaEndpoint, sourceEndpoint } from '../../shared/sql-database/sql-target';
import {
  type DatabaseState,
  describeInstance,
  instanceState,
  type SourceState,
  sourceState,
  sqlEngineOf,
  stateChecks,
} from '../../shared/sql-database/state';
import { defineValidator, type ValidationContext } from '../../shared/validator';

registerClients({ rds: RDSClient });

export interface RdsFacts {
  /** Undefined in local mode (no control plane). */
  readonly db?: DatabaseState;
  readonly source?: SourceState;
  readonly sqlEngine?: SqlEngine;
  readonly session?: SqlSession;
}

/** The instance identifier of the restored database: metadata `dbInstanceIdentifier`, else the created ARN. */
export function restoredInstanceId(ctx: ValidationContext): string {
  const fromMetadata = ctx.job.metadata.get('dbInstanceIdentifier');
  const created = ctx.job.created;
  const id = created?.resourceType === 'db' ? created.resourceId : fromMetadata;
  if (!id) {
    throw new ResourceStateError(
      'the restore job names no DB instance (no CreatedResourceArn of type db and no dbInstanceIdentifier metadata)',
    );
  }
  return id;
}

export const rdsValidator = defineValidator<RdsFacts>({
  name: 'rds',
  resourceTypes: ['RDS'],
  async gather(ctx) {
    if (ctx.mode === 'local') return localSession(ctx);
    const id = restoredInstanceId(ctx);
    const described = await describeInstance(ctx.clients.rds, id, ctx.signal);
    if (!described)
      throw new ResourceStateError(
        `restored DB instance ${id} was not found (DescribeDBInstances: DBInstanceNotFound)`,
      );
    const db = instanceState(described);
    const source = await sourceState(ctx.job, async (sid) => {
      const s = await describeInstance(ctx.clients.rds, sid, ctx.signal);
      return s && { engine: s.Engine, engineVersion: s.EngineVersion, storageEncrypted: s.StorageEncrypted };
    });
    ctx.logger.info('restored instance described', {
      instance: db.identifier,
      status: db.status,
      engine: db.engine,
      engineVersion: db.engineVersion,
      sourceFrom: source.from,
    });
    const sqlEngine = sqlEngineOf(db.engine);
    if (!sqlEngine || !wantsSql(ctx)) return { db, source, sqlEngine };
    if (!db.endpoint) return { db, source, sqlEngine };
    const target = lambdaEndpoint(ctx, { engine: sqlEngine, host: db.endpoint.host, port: db.endpoint.port });
    const session = new SqlSession(target, { source: sourceEndpoint(ctx, target) });
    return { db, source, sqlEngine, session };
  },
  checks(ctx, facts) {
    const state =
      facts.db && facts.source
        ? stateChecks<RdsFacts>(facts.db, facts.source, {
            ...dbOptions(ctx),
            restoreTest: Boolean(ctx.job.restoreTestingPlanArn),
          })
        : [];
    const sql =
      wantsSql(ctx) || ctx.mode === 'local'
        ? sqlChecksFor(ctx, facts, 'rds')
        : (unhandledProfileChecks(ctx, 'rds', new Set()) as CheckDefinition<RdsFacts>[]);
    return [...state, ...sql];
  },
  async cleanup(_ctx, facts) {
    await facts?.session?.close();
  },
});
