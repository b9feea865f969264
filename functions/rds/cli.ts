/** `restore-validation check rds`: the RDS validator's SQL checks against any reachable server (DESIGN.md contract 3). */
import type { LocalTarget } from '../../shared/local';
import { SQL_TARGET_OPTIONS, validateSqlTarget } from '../../shared/sql-database/cli-target';
import { rdsValidator } from './validator';

export const cliTarget: LocalTarget = {
  type: 'rds',
  resourceType: 'RDS',
  summary:
    'run an RDS profile (sql, freshness, tables, rowCounts) against a PostgreSQL, MySQL or MariaDB server',
  options: SQL_TARGET_OPTIONS,
  validator: rdsValidator,
  sourceResourceArn: validateSqlTarget,
};
