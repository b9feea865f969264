/**
 * A validation's database session: the restored database (and optionally the source, for row-count
 * comparisons) opened lazily and at most once. Checks share it, so N checks use one small pool, and a
 * login failure is discovered once and reported once (by the `login` check) instead of N times.
 */
import { reasonOf } from '../errors';
import { createSqlPool } from './connection';
import type { SqlEndpoint, SqlPool } from './types';

type EndpointSource = SqlEndpoint | (() => Promise<SqlEndpoint>);

export class SqlSession {
  readonly #target: EndpointSource;
  readonly #source: EndpointSource | undefined;
  readonly #createPool: (e: SqlEndpoint) => SqlPool;
  readonly #pools: SqlPool[] = [];
  #ready: Promise<{ pool: SqlPool; serverVersion: string }> | undefined;
  #sourceReady: Promise<SqlPool> | undefined;

  constructor(
    target: EndpointSource,
    options: { source?: EndpointSource; createPool?: (e: SqlEndpoint) => SqlPool } = {},
  ) {
    this.#target = target;
    this.#source = options.source;
    this.#createPool = options.createPool ?? createSqlPool;
  }

  /** Whether a source database is configured (for rowCounts). */
  get hasSource(): boolean {
    return this.#source !== undefined;
  }

  async #open(e: EndpointSource): Promise<{ pool: SqlPool; serverVersion: string }> {
    const endpoint = typeof e === 'function' ? await e() : e;
    const pool = this.#createPool(endpoint);
    this.#pools.push(pool);
    const { serverVersion } = await pool.probe();
    return { pool, serverVersion };
  }

  /** The restored database's pool after a successful login; rejects with the explained reason. */
  ready(): Promise<{ pool: SqlPool; serverVersion: string }> {
    this.#ready ??= this.#open(this.#target);
    return this.#ready;
  }

  /** The source database's pool; rejects when none is configured or it cannot be reached. */
  source(): Promise<SqlPool> {
    if (!this.#source) return Promise.reject(new Error('no source database configured (connection.source)'));
    this.#sourceReady ??= this.#open(this.#source).then(
      (r) => r.pool,
      (err) => {
        throw new Error(`source database: ${reasonOf(err)}`, { cause: err });
      },
    );
    return this.#sourceReady;
  }

  /** Closes every pool opened; safe to call more than once. */
  async close(): Promise<void> {
    const pools = this.#pools.splice(0);
    await Promise.all(pools.map((p) => p.close()));
  }
}
