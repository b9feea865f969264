/**
 * What the RDS and Aurora validators share once a database is described: the profile's database
 * options, where local mode connects, and which SQL checks run (or why they cannot).
 */
import { unhandledProfileChecks } from '../check-implementations';
import type { CheckDefinition } from '../checks';
import { errored } from '../checks';
import {
  buildSqlChecks,
  type DepthOptions,
  depthOptions,
  hasSqlChecks,
  SQL_CHECK_KINDS,
  type SqlEngine,
  SqlSession,
} from '../sql/index';
import type { ValidationContext } from '../validator';
import { localEndpoint, sourceEndpoint } from './sql-target';
import { type DatabaseState, type SourceState, stateChecks } from './state';

/** What the RDS and Aurora validators gather (Aurora adds its temporary instance). */
export interface DatabaseFacts {
  /** Undefined in local mode (no control plane). */
  readonly db?: DatabaseState;
  readonly source?: SourceState;
  readonly sqlEngine?: SqlEngine;
  readonly session?: SqlSession;
}

/** Options a profile may set under `options` for the database validators. */
export function dbOptions(ctx: ValidationContext): { requireEncryption: boolean } {
  const o = ctx.profile?.options ?? {};
  return { requireEncryption: o.requireEncryption !== false };
}

/** SQL checks (plus `login`) when there is something to query; an `error` per SQL check when the engine has no driver. */
export function sqlChecksFor<F extends DatabaseFacts>(
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

/** All the checks of a database validator: the state checks once the database is described, then the SQL ones. */
export function databaseChecks<F extends DatabaseFacts>(
  ctx: ValidationContext,
  facts: F,
  validatorName: string,
): CheckDefinition<F>[] {
  const state =
    facts.db && facts.source
      ? stateChecks<F>(facts.db, facts.source, {
          ...dbOptions(ctx),
          restoreTest: Boolean(ctx.job.restoreTestingPlanArn),
        })
      : [];
  const sql =
    wantsSql(ctx) || ctx.mode === 'local'
      ? sqlChecksFor(ctx, facts, validatorName)
      : (unhandledProfileChecks(ctx, validatorName, new Set()) as CheckDefinition<F>[]);
  return [...state, ...sql];
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
