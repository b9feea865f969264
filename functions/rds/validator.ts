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
import { errored } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import { ResourceStateError } from '../../shared/errors';
import {
  buildSqlChecks,
  type DepthOptions,
  depthOptions,
  hasSqlChecks,
  SQL_CHECK_KINDS,
  type SqlEngine,
  SqlSession,
} from '../../shared/sql/index';
import { defineValidator, type ValidationContext } from '../../shared/validator';
import { lambdaEndpoint, localEndpoint, sourceEndpoint } from './sql-target';
import {
  type DatabaseState,
  describeInstance,
  instanceState,
  type SourceState,
  sourceState,
  sqlEngineOf,
  stateChecks,
} from './state';

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

/** Options a profile may set under `options` for the database validators. */
export function dbOptions(ctx: ValidationContext): { requireEncryption: boolean } {
  const o = ctx.profile?.options ?? {};
  return { requireEncryption: o.requireEncryption !== false };
}

/** SQL checks (plus `login`) when there is something to query; an `error` per SQL check when the engine has no driver. */
export function sqlChecksFor<F extends { session?: SqlSession; sqlEngine?: SqlEngine; db?: DatabaseState }>(
  ctx: ValidationContext,
  facts: F,
  validatorName: string,
): CheckDefinition<F>[] {
  const profileChecks = ctx.profile?.checks ?? [];
  const handled = new Set<string>();
  const out: CheckDefinition<F>[] = [];
  if (facts.session && facts.sqlEngine) {
    let depth: DepthOptions | false = false;
    try {
      depth = depthOptions(ctx.profile?.options?.defaultChecks);
    } catch (err) {
      out.push({ id: 'default-checks', run: () => errored((err as Error).message) });
    }
    const built = buildSqlChecks<F>(profileChecks, {
      session: facts.session,
      engine: facts.sqlEngine,
      recoveryPointTime: ctx.job.recoveryPointCreationDate,
      note: ctx.note,
      depth,
    });
    out.push(...built.checks);
    for (const id of built.handled) handled.add(id);
  } else {
    for (const c of profileChecks) {
      if (!(SQL_CHECK_KINDS as readonly string[]).includes(c.kind)) continue;
      handled.add(c.id);
      const why =
        facts.db && !facts.sqlEngine
          ? `engine ${facts.db.engine} gets state checks only (no SQL driver)`
          : 'no database endpoint to query';
      out.push({ id: c.id, run: () => errored(`${c.kind} check not run: ${why}`) });
    }
  }
  out.push(...(unhandledProfileChecks(ctx, validatorName, handled) as CheckDefinition<F>[]));
  return out;
}

/** A session for local mode (CLI flags). */
export function localSession(ctx: ValidationContext): { session: SqlSession; sqlEngine: SqlEngine } {
  const endpoint = localEndpoint(ctx);
  return {
    session: new SqlSession(endpoint, { source: sourceEndpoint(ctx, () => endpoint) }),
    sqlEngine: endpoint.engine,
  };
}

/** Whether the profile wants a database connection at all. */
export const wantsSql = (ctx: ValidationContext): boolean =>
  hasSqlChecks(ctx.profile?.checks) || ctx.profile?.connection !== undefined;

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
