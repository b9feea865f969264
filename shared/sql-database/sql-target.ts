/**
 * Where the SQL checks connect, for RDS and Aurora: in Lambda mode the endpoint DescribeDB* returned
 * and the profile's credentials; in local mode (`restore-validation check rds|aurora`) the CLI flags.
 */

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { registerClients } from '../clients';
import type { Connection } from '../config/index';
import { readEnvVar } from '../env';
import { UsageError } from '../errors';
import {
  credentialsFromSecret,
  iamCredentials,
  type ResolvedCredentials,
  resolveCredentials,
  SQL_ENGINES,
  type SqlEndpoint,
  type SqlEngine,
} from '../sql/index';
import type { ValidationContext } from '../validator';

registerClients({ secrets: SecretsManagerClient });

const DEFAULT_PORTS: Record<SqlEngine, number> = { postgres: 5432, mysql: 3306, mariadb: 3306 };

function common(
  ctx: ValidationContext,
): Pick<SqlEndpoint, 'statementTimeoutMs' | 'poolSize' | 'connectTimeoutMs'> {
  const c = ctx.profile?.connection;
  const concurrency = ctx.profile?.concurrency ?? ctx.config.defaults.concurrency;
  return {
    statementTimeoutMs: (c?.statementTimeoutSeconds ?? 30) * 1000,
    poolSize: Math.min(Math.max(1, concurrency), 8),
    connectTimeoutMs: Math.max(1000, Math.min(10_000, ctx.remainingMs())),
  };
}

/** The engine named by `--engine` in local mode. */
export function localEngine(ctx: ValidationContext): SqlEngine {
  const engine = String(ctx.target.engine ?? '');
  if (!(SQL_ENGINES as readonly string[]).includes(engine))
    throw new UsageError(`--engine must be one of ${SQL_ENGINES.join(', ')}, got ${JSON.stringify(engine)}`);
  return engine as SqlEngine;
}

/** The target database from the CLI flags (local mode). */
export function localEndpoint(ctx: ValidationContext): SqlEndpoint {
  const t = ctx.target;
  const engine = localEngine(ctx);
  const host = typeof t.host === 'string' && t.host ? t.host : '127.0.0.1';
  const port = t.port === undefined ? DEFAULT_PORTS[engine] : Number(t.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new UsageError(`--port must be a TCP port number, got ${JSON.stringify(t.port)}`);
  const user = typeof t.user === 'string' && t.user ? t.user : engine === 'postgres' ? 'postgres' : 'root';
  let password: string | undefined;
  if (typeof t.passwordEnv === 'string' && t.passwordEnv) {
    password = readEnvVar(t.passwordEnv);
    if (password === undefined)
      throw new UsageError(`--password-env ${t.passwordEnv}: that environment variable is not set`);
  }
  const database =
    typeof t.database === 'string' && t.database ? t.database : ctx.profile?.connection?.database;
  return {
    engine,
    host,
    port,
    database,
    user,
    password,
    tls: t.tls === true,
    credentialSource: 'local',
    ...common(ctx),
  };
}

/** The restored database in Lambda mode; credentials are resolved when the session opens (so a failure is the `login` check's). */
export function lambdaEndpoint(
  ctx: ValidationContext,
  input: { engine: SqlEngine; host: string; port: number },
): () => Promise<SqlEndpoint> {
  const connection: Connection | undefined = ctx.profile?.connection;
  return async () => {
    const port = connection?.port ?? input.port ?? DEFAULT_PORTS[input.engine];
    const creds = await resolveCredentials({
      connection,
      secrets: ctx.clients.secrets,
      host: input.host,
      port,
      region: ctx.job.region,
      signal: ctx.signal,
    });
    return {
      engine: input.engine,
      host: input.host,
      port,
      database: connection?.database ?? creds.database,
      user: creds.user,
      password: creds.password,
      tls: connection?.tls ?? true,
      credentialSource: creds.source,
      ...common(ctx),
    };
  };
}

/** The source database for rowCounts (`connection.source`), or undefined when none is configured. */
export function sourceEndpoint(
  ctx: ValidationContext,
  target: () => Promise<SqlEndpoint> | SqlEndpoint,
): (() => Promise<SqlEndpoint>) | undefined {
  const s = ctx.profile?.connection?.source;
  if (!s) return undefined;
  return async () => {
    const t = await target();
    let creds: ResolvedCredentials = { user: t.user, password: t.password, source: t.credentialSource };
    if (s.secretArn && ctx.mode === 'lambda')
      creds = await credentialsFromSecret(ctx.clients.secrets, s.secretArn, ctx.signal);
    // An IAM token is bound to its host: mint the source's own.
    else if (t.credentialSource === 'iam')
      creds = iamCredentials({ host: s.host, port: s.port ?? t.port, user: t.user, region: ctx.job.region });
    return {
      ...t,
      host: s.host,
      port: s.port ?? t.port,
      database: s.database ?? t.database,
      user: creds.user,
      password: creds.password,
      credentialSource: creds.source,
    };
  };
}
