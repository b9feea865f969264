/** Types of the SQL engine shared by the RDS and Aurora validators and custom checks. */

/** The wire protocol / driver: `postgres` via `pg`, `mysql` and `mariadb` via `mysql2`. */
export type SqlEngine = 'postgres' | 'mysql' | 'mariadb';
export const SQL_ENGINES: readonly SqlEngine[] = ['postgres', 'mysql', 'mariadb'];

/** Where the password came from: a Secrets Manager secret, an IAM auth token, or the CLI's `--password-env`. */
export type CredentialSource = 'secret' | 'iam' | 'local' | 'none';

export interface TlsOptions {
  /** Certificates to trust (PEM). Default: the Amazon RDS CA bundle plus Node's root certificates. */
  readonly ca?: readonly string[];
}

/** Everything needed to open a connection pool. */
export interface SqlEndpoint {
  readonly engine: SqlEngine;
  readonly host: string;
  readonly port: number;
  readonly database?: string;
  readonly user: string;
  /** A fixed password or a provider (IAM tokens are minted when a connection opens). */
  readonly password?: string | (() => Promise<string>);
  /** `false` for plain TCP; `true` or options to verify the server certificate. */
  readonly tls: boolean | TlsOptions;
  readonly credentialSource: CredentialSource;
  /** Server-side statement timeout applied to every statement. Default 30 s. */
  readonly statementTimeoutMs?: number;
  /** Connection establishment timeout. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Connections in the pool (checks run concurrently over them). Default 4. */
  readonly poolSize?: number;
}

export type SqlRow = Readonly<Record<string, unknown>>;

/**
 * What a column holds, from the driver's type metadata: `number` (integer, decimal, float),
 * `text` (character types: compared as text, never as numbers), `instant` (absolute times:
 * PostgreSQL `timestamptz`, MySQL `TIMESTAMP`, returned in UTC), `other`.
 */
export type ColumnKind = 'number' | 'text' | 'instant' | 'other';

export interface QueryResult {
  /** The rows kept: all of them, or the first `maxRows` when that option was given. */
  readonly rows: readonly SqlRow[];
  /** How many rows the statement returned (also those not kept). */
  readonly rowCount: number;
  /** Column names in select order. */
  readonly columns: readonly string[];
  /** What each column holds, in select order. */
  readonly columnKinds: readonly ColumnKind[];
}

export interface QueryOptions {
  readonly params?: readonly unknown[];
  /** Overrides the pool's statement timeout for this statement (it is never raised above it). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Keep only the first N rows; the rest are counted as they stream past, never held, so a
   * `select *` of a big table cannot exhaust the process's memory.
   */
  readonly maxRows?: number;
}

/**
 * A pool of read-only connections. Every statement runs alone in a read-only transaction with a
 * statement timeout, and the transaction is rolled back afterwards: nothing a check sends can change
 * data. Values keep their exact form: bigint/decimal as strings, timestamps as text.
 */
export interface SqlPool {
  readonly engine: SqlEngine;
  readonly endpoint: Pick<SqlEndpoint, 'host' | 'port' | 'database' | 'user' | 'credentialSource'>;
  /** Opens one connection and asks the server its version: proves login works. */
  probe(signal?: AbortSignal): Promise<{ serverVersion: string }>;
  query(sql: string, options?: QueryOptions): Promise<QueryResult>;
  close(): Promise<void>;
}
