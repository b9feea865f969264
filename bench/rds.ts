/**
 * Benchmark: a profile of 20 SQL checks against a local PostgreSQL holding 1M rows.
 * Measures the validation's wall time (the RDS validator in local mode, exactly as
 * `restore-validation check rds` runs it) beside the baseline measured in the same run: the same 20
 * queries run one after another with `psql`. Target: validation ≤ 1.2 × psql's total time, peak
 * memory (RSS) < 150 MB. Run: `npx tsx bench/rds.ts` (ROWS=… to change the size).
 */

import { performance } from 'node:perf_hooks';
import { rdsValidator } from '../functions/rds/validator';
import { createClients } from '../shared/clients';
import { parseConfig } from '../shared/config/index';
import { localRestoreJob } from '../shared/job';
import { logger } from '../shared/logger';
import { runValidator } from '../shared/validator';
import { startPostgres } from '../test/support/engines';
import { judge } from './_targets';

const ROWS = Number(process.env.ROWS ?? 1_000_000);
const TARGET_RATIO = 1.2;
const TARGET_RSS_MB = 150;

/** The 20 checks: aggregates, filters, a join, freshness, existence — what profiles typically ask. */
function checks(): unknown[] {
  const sql = (id: string, q: string, expect: Record<string, unknown>) => ({ id, sql: q, expect });
  return [
    sql('count', 'select count(*) as n from events', { n: { equals: ROWS } }),
    sql('sum', 'select sum(amount) as s from events', { s: { min: 1 } }),
    sql('avg', 'select avg(amount) as a from events', { a: { min: 0 } }),
    sql('max-id', 'select max(id) as m from events', { m: { equals: ROWS } }),
    sql('min-id', 'select min(id) as m from events', { m: { equals: 1 } }),
    sql('distinct-users', 'select count(distinct user_id) as n from events', { n: { min: 1000 } }),
    sql('by-kind', 'select kind, count(*) as n from events group by kind order by kind limit 1', {
      n: { min: 1 },
    }),
    sql('big-amounts', 'select count(*) as n from events where amount > 900', { n: { min: 1 } }),
    sql('no-null-kind', 'select count(*) as n from events where kind is null', { n: { equals: 0 } }),
    sql('users', 'select count(*) as n from users', { n: { equals: 10_000 } }),
    sql('join', 'select count(*) as n from events e join users u on u.id = e.user_id where u.tier = 1', {
      n: { min: 1 },
    }),
    sql(
      'orphans',
      'select count(*) as n from events e where not exists (select 1 from users u where u.id = e.user_id)',
      { n: { equals: 0 } },
    ),
    sql(
      'recent',
      "select count(*) as n from events where created_at > timestamptz '2026-11-24 00:00:00+00'",
      { n: { min: 1 } },
    ),
    sql('payload-len', 'select max(length(payload)) as l from events', { l: { max: 100 } }),
    sql('sum-by-tier', 'select sum(e.amount) as s from events e join users u on u.id = e.user_id', {
      s: { min: 1 },
    }),
    sql('percentile', 'select percentile_cont(0.5) within group (order by amount) as p from events', {
      p: { min: 0 },
    }),
    sql('dup-ids', 'select count(*) - count(distinct id) as d from events', { d: { equals: 0 } }),
    sql('kinds', 'select count(distinct kind) as k from events', { k: { equals: 8 } }),
    { id: 'fresh', freshness: { sql: 'select max(created_at) from events', maxAgeMinutes: 600 } },
    { id: 'tables', tables: ['events', 'users'] },
  ];
}

/** The same statements psql runs in the baseline (tables/freshness as the queries they issue). */
function baselineQueries(list: unknown[]): string[] {
  return list.map((c) => {
    const x = c as { sql?: string; freshness?: { sql: string }; tables?: string[] };
    if (x.sql) return x.sql;
    if (x.freshness) return x.freshness.sql;
    return `select t, to_regclass(t) is not null from unnest(array['${(x.tables ?? []).join("','")}']) t`;
  });
}

export default async function bench(): Promise<void> {
  console.log(`bench rds: 20 SQL checks, PostgreSQL, ${ROWS.toLocaleString('en-US')} rows`);
  const pg = await startPostgres();
  try {
    pg.psql('CREATE DATABASE bench;');
    pg.psql(
      `CREATE TABLE users (id int PRIMARY KEY, tier int NOT NULL);
       INSERT INTO users SELECT g, g % 3 FROM generate_series(1, 10000) g;
       CREATE TABLE events (id bigint PRIMARY KEY, user_id int NOT NULL, kind text NOT NULL, amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, payload text);
       INSERT INTO events SELECT g, 1 + g % 10000, 'kind-' || (g % 8), (g % 100000) / 100.0, timestamptz '2026-11-24 22:00:00+00' - (g % 100000) * interval '1 minute', md5(g::text) FROM generate_series(1, ${ROWS}) g;
       VACUUM ANALYZE;`,
      'bench',
    );
    const list = checks();
    const queries = baselineQueries(list);
    // Warm the cache the same way for both: one pass that neither is measured on.
    for (const q of queries) pg.psql(q, 'bench');

    // Baseline: psql, one query after another (process start, connect, query, print) — what an operator would run.
    const psqlStart = performance.now();
    for (const q of queries) pg.psql(q, 'bench');
    const psqlMs = performance.now() - psqlStart;

    // Validation: the RDS validator in local mode, default concurrency, read-only transactions and all.
    process.env.RV_BENCH_PW = pg.password;
    const config = parseConfig({
      version: 1,
      // The 20 profile checks alone (the default user-tables/foreign-keys checks are measured apart).
      profiles: [
        { name: 'bench', match: { resourceType: 'RDS' }, checks: list, options: { defaultChecks: false } },
      ],
    });
    const validate = (concurrency?: number) =>
      runValidator(
        rdsValidator,
        {
          job: localRestoreJob({
            resourceType: 'RDS',
            recoveryPointCreationDate: new Date('2026-11-24T22:00:00Z'),
          }),
          profile: config.profiles[0],
          config,
          logger,
          clients: createClients({ region: 'us-east-1' }),
          deadline: Date.now() + 600_000,
          mode: 'local',
          target: {
            engine: 'postgres',
            host: pg.host,
            port: String(pg.port),
            database: 'bench',
            user: pg.user,
            passwordEnv: 'RV_BENCH_PW',
          },
          settings: {},
        },
        concurrency ? { concurrency } : {},
      );
    // Framework overhead alone: the checks one at a time, like psql.
    const serialStart = performance.now();
    await validate(1);
    const serialMs = performance.now() - serialStart;

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 5);
    const runStart = performance.now();
    const run = await validate();
    const runMs = performance.now() - runStart;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const bad = run.results.filter((r) => r.status !== 'pass');
    if (bad.length)
      console.log(
        `  WARNING: ${bad.length} checks did not pass: ${bad.map((r) => `${r.id}: ${r.detail}`).join('; ')}`,
      );

    const ratio = runMs / psqlMs;
    const rssMb = peakRss / 1024 / 1024;
    const sumOfChecks = run.results.reduce((s, r) => s + r.durationMs, 0);
    console.log(`  psql, 20 queries one after another (baseline): ${psqlMs.toFixed(0)} ms`);
    console.log(
      `  validation wall time (${run.results.length} results incl. login, verdict ${run.verdict.verdict}): ${runMs.toFixed(0)} ms (sum of check times ${sumOfChecks} ms)`,
    );
    judge('rds/validation vs psql', ratio, '≤', TARGET_RATIO, '×');
    console.log(
      `  validation with concurrency 1 (overhead alone): ${serialMs.toFixed(0)} ms, ratio ${(serialMs / psqlMs).toFixed(2)} vs psql`,
    );
    judge('rds/peak RSS during validation', rssMb, '<', TARGET_RSS_MB, 'MB');
  } finally {
    await pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bench().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
