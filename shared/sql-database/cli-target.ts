/** The CLI target flags of `check rds` and `check aurora` (DESIGN.md contract 3) and their up-front check. */
import { readEnvVar } from '../env';
import { UsageError } from '../errors';
import { parseInstantFlag, type TargetOption } from '../local';

/** The target flags of `check rds` and `check aurora`. */
export const SQL_TARGET_OPTIONS: readonly TargetOption[] = [
  {
    flags: '--engine <engine>',
    description: 'database engine',
    required: true,
    choices: ['postgres', 'mysql', 'mariadb'],
  },
  { flags: '--host <host>', description: 'database host', defaultValue: '127.0.0.1' },
  {
    flags: '--port <port>',
    description: 'database port (default 5432 for postgres, 3306 for mysql/mariadb)',
  },
  {
    flags: '--database <name>',
    description: "database to connect to (default: the profile's connection.database)",
  },
  { flags: '--user <user>', description: 'database user (default postgres / root)' },
  {
    flags: '--password-env <var>',
    description: 'name of the environment variable holding the password (never pass it on the command line)',
  },
  {
    flags: '--tls',
    description: 'connect with TLS, verifying the server against the Amazon RDS CA bundle and public roots',
  },
  {
    flags: '--recovery-point-time <iso>',
    description: 'reference time for freshness checks, with an offset (2026-11-24T22:00:00Z; default: now)',
  },
];

/**
 * Checks the target flags before anything runs, so a mistake is a usage error (exit code 2), not a
 * FAILED verdict. Called through `sourceResourceArn`, the hook the CLI calls first with the flags;
 * there is no source ARN for a local server.
 */
export function validateSqlTarget(target: Readonly<Record<string, unknown>>): undefined {
  if (target.port !== undefined) {
    const port = Number(target.port);
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      throw new UsageError(`--port must be a TCP port number, got ${JSON.stringify(target.port)}`);
  }
  if (typeof target.passwordEnv === 'string' && readEnvVar(target.passwordEnv) === undefined) {
    throw new UsageError(`--password-env ${target.passwordEnv}: that environment variable is not set`);
  }
  parseInstantFlag(target.recoveryPointTime, '--recovery-point-time');
  return undefined;
}
