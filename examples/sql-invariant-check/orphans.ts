/**
 * A custom check kind for the built-in RDS and Aurora validators: "no orphaned foreign keys".
 *
 *   - id: order-lines-have-orders
 *     orphans: { child: order_lines, column: order_id, parent: orders }
 *
 * Importing this module registers both halves of the extension:
 *   1. the kind's schema (`registerCheckKind`), so a config using `orphans` validates at synth time,
 *      at cold start and in `restore-validation validate-config`, with typos reported by path;
 *   2. its implementation (`registerCheckImplementation`), which the validators run for every profile
 *      check of this kind, over the validation's shared read-only database session.
 *
 * It imports only from the package root, as a file in your own repository would.
 */
import {
  type CheckConfig,
  checkBase,
  defineCheck,
  errored,
  fail,
  pass,
  quoteIdentifier,
  quoteTable,
  reasonOf,
  registerCheckImplementation,
  registerCheckKind,
  type SqlFacts,
  skip,
  z,
} from 'restore-validation';

const identifier = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/,
    'a table or column name (optionally schema.table)',
  );

export const orphansKind = registerCheckKind({
  key: 'orphans',
  resourceTypes: ['RDS', 'Aurora'],
  summary: 'rows of a child table whose reference points at no row of the parent table (must be none)',
  schema: z.strictObject({
    ...checkBase,
    orphans: z.strictObject({
      child: identifier.describe('Table holding the reference, e.g. order_lines.'),
      column: identifier.describe('Referencing column of the child table, e.g. order_id.'),
      parent: identifier.describe('Referenced table, e.g. orders.'),
      parentColumn: identifier.default('id').describe('Referenced column of the parent table (default id).'),
      maxOrphans: z.number().int().min(0).default(0).describe('Orphans tolerated (default 0).'),
    }),
  }),
});

type OrphansOptions = z.output<typeof orphansKind.schema>['orphans'];

/** The statement: count child rows with a non-null reference and no parent. Exported for the docs and tests. */
export function orphansSql(engine: 'postgres' | 'mysql' | 'mariadb', o: OrphansOptions): string {
  const child = quoteTable(engine, o.child);
  const parent = quoteTable(engine, o.parent);
  const col = quoteIdentifier(engine, o.column);
  const pcol = quoteIdentifier(engine, o.parentColumn);
  return `select count(*) as orphans from ${child} c where c.${col} is not null and not exists (select 1 from ${parent} p where p.${pcol} = c.${col})`;
}

registerCheckImplementation('orphans', (check: CheckConfig) => {
  // Already validated (and defaulted) by the config schema above.
  const o = check.orphans as OrphansOptions;
  return defineCheck<SqlFacts>({
    id: check.id,
    description:
      typeof check.description === 'string'
        ? check.description
        : `no ${o.child}.${o.column} without a ${o.parent}`,
    async run(facts, { signal }) {
      if (!facts.session || !facts.sqlEngine)
        return errored('no database session: give the profile a connection (or run check rds --host ...)');
      let pool: Awaited<ReturnType<typeof facts.session.ready>>['pool'];
      try {
        pool = (await facts.session.ready()).pool;
      } catch (err) {
        // The validator's `login` check reports why; do not report the same failure twice.
        return skip(`not run: could not log in (${reasonOf(err)})`);
      }
      let rows: readonly Record<string, unknown>[];
      try {
        ({ rows } = await pool.query(orphansSql(facts.sqlEngine, o), { signal }));
      } catch (err) {
        // A table or column the restored database does not have is a finding about the restore.
        // By name, not instanceof: inside an addCheck layer only the host's light API is bound.
        if ((err as Error).name === 'SqlStatementError')
          return fail(`statement failed: ${(err as Error).message}`);
        throw err;
      }
      const orphans = Number(rows[0]?.orphans ?? Number.NaN);
      if (!Number.isFinite(orphans)) return errored('the orphan count query returned no number');
      const what = `${o.child}.${o.column} → ${o.parent}.${o.parentColumn}`;
      return orphans <= o.maxOrphans
        ? pass(`${orphans} orphaned rows in ${what}`, { orphans })
        : fail(`${orphans} orphaned rows in ${what} (at most ${o.maxOrphans} allowed)`, { orphans });
    },
  });
});
