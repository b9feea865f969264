/** `restore-validation check aurora`: the Aurora profile's SQL checks against any reachable server (no temporary instance locally). */
import type { LocalTarget } from '../../shared/local';
import { SQL_TARGET_OPTIONS, validateSqlTarget } from '../../shared/sql-database/cli-target';
import { auroraValidator } from './validator';

export const cliTarget: LocalTarget = {
  type: 'aurora',
  resourceType: 'Aurora',
  summary:
    'run an Aurora profile (sql, freshness, tables, rowCounts) against a PostgreSQL, MySQL or MariaDB server',
  options: SQL_TARGET_OPTIONS,
  validator: auroraValidator,
  sourceResourceArn: validateSqlTarget,
};
