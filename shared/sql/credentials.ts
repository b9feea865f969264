/**
 * Database credentials for a validation. In order of preference:
 * - IAM database authentication (`connection.iamAuth: true` + `connection.user`): a 15-minute token
 *   from `@aws-sdk/rds-signer`, minted when the connection opens; needs the restore test's
 *   `enableIamDatabaseAuthentication` metadata override and TLS.
 * - A Secrets Manager secret (`connection.secretArn`) with `username`/`password` of a stable,
 *   read-only validation user (the RDS secret JSON shape; `dbname` is used when no database is set).
 * - Locally (`restore-validation check`): `--user` and the password from `--password-env VAR`.
 * The password is never logged, put into an error message or into evidence.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import type { Connection } from '../config/index';
import { ResourceStateError, reasonOf } from '../errors';
import { withRetry } from '../retry';
import type { CredentialSource } from './types';

export interface ResolvedCredentials {
  readonly user: string;
  readonly password?: string | (() => Promise<string>);
  readonly source: CredentialSource;
  /** A database named by the secret (`dbname`), used when the profile names none. */
  readonly database?: string;
}

/** Reads `{username, password}` from a Secrets Manager secret. */
export async function credentialsFromSecret(
  secrets: SecretsManagerClient,
  secretArn: string,
  signal?: AbortSignal,
): Promise<ResolvedCredentials> {
  let text: string | undefined;
  try {
    const out = await withRetry(
      () => secrets.send(new GetSecretValueCommand({ SecretId: secretArn }), { abortSignal: signal }),
      { signal },
    );
    text = out.SecretString;
  } catch (err) {
    throw new ResourceStateError(
      `could not read the database secret ${secretArn}: ${reasonOf(err)} (the validator role needs secretsmanager:GetSecretValue and kms:Decrypt on it)`,
      {
        cause: err,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new ResourceStateError(
      `database secret ${secretArn} is not JSON: store {"username": …, "password": …}`,
    );
  }
  const p = (parsed ?? {}) as Record<string, unknown>;
  const user = typeof p.username === 'string' ? p.username : typeof p.user === 'string' ? p.user : undefined;
  if (!user || typeof p.password !== 'string') {
    throw new ResourceStateError(
      `database secret ${secretArn} lacks "username" and "password" string fields`,
    );
  }
  return {
    user,
    password: p.password,
    source: 'secret',
    database: typeof p.dbname === 'string' ? p.dbname : undefined,
  };
}

/** An IAM auth token provider for `user` at host:port; tokens are minted on use. */
export function iamCredentials(input: {
  host: string;
  port: number;
  user: string;
  region?: string;
}): ResolvedCredentials {
  const signer = new Signer({
    hostname: input.host,
    port: input.port,
    username: input.user,
    ...(input.region ? { region: input.region } : {}),
  });
  return { user: input.user, password: () => signer.getAuthToken(), source: 'iam' };
}

/** Credentials a profile's connection asks for, in Lambda mode. */
export async function resolveCredentials(input: {
  connection: Connection | undefined;
  secrets: SecretsManagerClient;
  host: string;
  port: number;
  region?: string;
  signal?: AbortSignal;
}): Promise<ResolvedCredentials> {
  const c = input.connection;
  if (c?.iamAuth) {
    if (!c.user)
      throw new ResourceStateError(
        'connection.iamAuth is true but connection.user is missing: name the database user that has IAM authentication',
      );
    if (c.tls === false)
      throw new ResourceStateError('IAM database authentication requires TLS: remove connection.tls: false');
    return iamCredentials({ host: input.host, port: input.port, user: c.user, region: input.region });
  }
  if (c?.secretArn) return credentialsFromSecret(input.secrets, c.secretArn, input.signal);
  throw new ResourceStateError(
    'no database credentials configured: set connection.secretArn (a stable read-only validation user) or connection.iamAuth with connection.user in the profile',
  );
}
