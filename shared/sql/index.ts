/**
 * The SQL engine: read-only pools for PostgreSQL/MySQL/MariaDB, credentials, the SQL check kinds and
 * exact value comparison. Used by the RDS and Aurora validators; custom checks may reuse it.
 */
export * from './checks';
export * from './connection';
export * from './credentials';
export * from './decimal';
export * from './depth';
export * from './errors';
export * from './expect';
export * from './identifiers';
export * from './session';
export * from './statement-guard';
export * from './time';
export * from './tls';
export * from './types';
