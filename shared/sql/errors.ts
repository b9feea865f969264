/**
 * Connection failures translated into the likely cause, so a FAILED verdict tells the operator what
 * to fix. A restored database keeps the users and passwords of its snapshot time, and sits in the
 * subnet group and security groups the selection's metadata overrides name.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
import { reasonOf } from '../errors';
import type { SqlEndpoint } from './types';

type Where = Pick<SqlEndpoint, 'host' | 'port' | 'user' | 'database' | 'credentialSource'>;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
  'ENOTFOUND',
]);
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The one-line reason for a failed login or connection, naming the likely cause and the fix. */
export function explainConnectError(err: unknown, where: Where): string {
  const e = (err ?? {}) as { code?: string | number; errno?: number; message?: string };
  const code = String(e.code ?? '');
  const message = reasonOf(err);
  const at = `${where.host}:${where.port}`;
  const user = `user "${where.user}"`;
  const creds =
    where.credentialSource === 'iam'
      ? 'IAM authentication was refused: check that the restore test overrides enableIamDatabaseAuthentication=true, that the user exists with the rds_iam role (PostgreSQL) or AWSAuthenticationPlugin (MySQL), and that the validator role may rds-db:connect'
      : where.credentialSource === 'secret'
        ? 'the password may have been rotated after the snapshot was taken (a restored database keeps the passwords of its snapshot time) or the user did not exist yet at snapshot time: use a stable read-only validation user whose secret is not rotated, or IAM authentication'
        : 'check the user and password';
  // PostgreSQL SQLSTATEs / MySQL error codes for authentication
  if (code === '28P01' || code === 'ER_ACCESS_DENIED_ERROR' || e.errno === 1045)
    return `login failed for ${user} at ${at}: ${creds}`;
  if (code === '28000') {
    if (/does not exist/i.test(message))
      return `login failed: ${user} does not exist in the restored database at ${at} (it must exist in the snapshot): ${creds}`;
    if (/pg_hba|no encryption/i.test(message))
      return `the server at ${at} refused the connection by its pg_hba rules (${message}): it may require TLS (set connection.tls: true)`;
    return `login failed for ${user} at ${at}: ${message}`;
  }
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR')
    return `database "${where.database}" does not exist on ${at}: check connection.database`;
  if (code === 'ER_DBACCESS_DENIED_ERROR')
    return `${user} may not open database "${where.database}" on ${at}: grant it access in the source database`;
  if (
    NETWORK_CODES.has(code) ||
    /connect ETIMEDOUT|timeout expired|Connection terminated due to connection timeout|connect timeout/i.test(
      message,
    )
  ) {
    if (where.credentialSource === 'local')
      return `could not reach ${at} (${code || 'timed out'}): is the server running and listening there? Check --host and --port, and that a firewall lets this machine connect`;
    return `could not reach ${at} (${code || 'timed out'}): the validator cannot connect over the network. Check that the restore test puts the database in the validator's VPC (selection overrides dbSubnetGroupName and vpcSecurityGroupIds) and that the security group allows the validator's security group on port ${where.port}`;
  }
  if (TLS_CODES.has(code) || /certificate|self[- ]signed/i.test(message)) {
    return `TLS verification of ${at} failed (${code || message}): the server certificate does not chain to the Amazon RDS CA bundle; set connection.tls: false only for a server you trust`;
  }
  if (/does not support SSL|SSL connection|server does not support secure/i.test(message)) {
    return `the server at ${at} does not accept TLS (${message}): set connection.tls: false or enable TLS on the server`;
  }
  return `could not connect to ${at} as ${user}: ${message}`;
}
