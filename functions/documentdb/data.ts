/**
 * DocumentDB data access through the `mongodb` driver, behind a small driver-like interface so the
 * check logic is testable without a server (no MongoDB server can run on these build machines).
 * TLS is verified against the Amazon RDS CA bundle, which DocumentDB certificates chain to.
 * @see https://docs.aws.amazon.com/documentdb/latest/developerguide/connect_programmatically.html
 */
import { MongoClient } from 'mongodb';
import { rdsCaBundle } from '../../shared/sql/tls';

/** What the checks need from a DocumentDB connection. */
export interface DocumentStore {
  collectionNames(database: string): Promise<string[]>;
  countDocuments(
    database: string,
    collection: string,
    filter: Record<string, unknown>,
    maxTimeMs: number,
  ): Promise<number>;
  close(): Promise<void>;
}

export interface DocumentStoreOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Verify TLS against the RDS CA bundle (DocumentDB's default `tls: enabled`). */
  readonly tls: boolean;
  readonly connectTimeoutMs: number;
}

export type DocumentStoreFactory = (options: DocumentStoreOptions) => Promise<DocumentStore>;

/**
 * Connects with the options DocumentDB requires: direct connection to the one (temporary) instance,
 * no retryable writes (unsupported), SCRAM credentials against `admin`.
 */
export const connectDocumentDb: DocumentStoreFactory = async (o) => {
  const client = new MongoClient(`mongodb://${o.host}:${o.port}/`, {
    auth: { username: o.username, password: o.password },
    authSource: 'admin',
    directConnection: true,
    retryWrites: false,
    readPreference: 'primaryPreferred',
    tls: o.tls,
    ...(o.tls ? { ca: rdsCaBundle() } : {}),
    serverSelectionTimeoutMS: o.connectTimeoutMs,
    connectTimeoutMS: o.connectTimeoutMs,
    appName: 'restore-validation',
  });
  await client.connect();
  return {
    async collectionNames(database) {
      const list = await client.db(database).listCollections({}, { nameOnly: true }).toArray();
      return list.map((c) => c.name);
    },
    countDocuments(database, collection, filter, maxTimeMs) {
      return client.db(database).collection(collection).countDocuments(filter, { maxTimeMS: maxTimeMs });
    },
    close: () => client.close(),
  };
};
