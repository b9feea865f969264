/**
 * The RDS validator: proves a restored DB instance is usable and holds the right data.
 * Facts come from DescribeDBInstances (state, engine and version against the source, encryption,
 * public access, the restore-test name/tag); the profile's SQL checks then run read-only against the
 * instance's endpoint. Oracle, SQL Server and Db2 instances get the state checks only.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { registerClients } from '../../shared/clients';
import { SqlSession } from '../../shared/sql/index';
import { type DatabaseFacts, databaseChecks, localSession, wantsSql } from '../../shared/sql-database/checks';
import { lambdaEndpoint, sourceEndpoint } from '../../shared/sql-database/sql-target';
import { describeRestored, sqlEngineOf } from '../../shared/sql-database/state';
import { defineValidator } from '../../shared/validator';

registerClients({ rds: RDSClient });

export type RdsFacts = DatabaseFacts;

export const rdsValidator = defineValidator<RdsFacts>({
  name: 'rds',
  resourceTypes: ['RDS'],
  async gather(ctx) {
    if (ctx.mode === 'local') return localSession(ctx);
    const { db, source } = await describeRestored(ctx, 'instance');
    const sqlEngine = sqlEngineOf(db.engine);
    if (!sqlEngine || !wantsSql(ctx)) return { db, source, sqlEngine };
    if (!db.endpoint) return { db, source, sqlEngine };
    const target = lambdaEndpoint(ctx, { engine: sqlEngine, host: db.endpoint.host, port: db.endpoint.port });
    const session = new SqlSession(target, { source: sourceEndpoint(ctx, target) });
    return { db, source, sqlEngine, session };
  },
  checks: (ctx, facts) => databaseChecks(ctx, facts, 'rds'),
  async cleanup(_ctx, facts) {
    await facts?.session?.close();
  },
});
