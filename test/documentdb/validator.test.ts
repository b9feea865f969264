import type { DocDBClient } from '@aws-sdk/client-docdb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { DocumentStore, DocumentStoreOptions } from '../../functions/documentdb/data';
import { createDocumentDbValidator } from '../../functions/documentdb/validator';
import { runValidator } from '../../shared/validator';
import { testContext } from '../support/validator-context';
import { createdByTag, type FakeCluster, fakeCluster } from './fake-cluster';

const RESTORED = 'awsbackup-restore-test-9f8e7d6c';
const SOURCE = 'orders-docs';
const ARN = (id: string) => `arn:aws:rds:us-east-1:123456789012:cluster:${id}`;
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:docdb-ro';

/** An in-memory stand-in with the driver-like interface (no MongoDB server runs on these machines). */
function memoryStore(data: Record<string, Record<string, unknown>[]>, opts: { failCount?: boolean } = {}) {
  const calls: { connect?: DocumentStoreOptions; closed: boolean } = { closed: false };
  const connect = async (o: DocumentStoreOptions): Promise<DocumentStore> => {
    calls.connect = o;
    return {
      collectionNames: async () => Object.keys(data),
      countDocuments: async (_db, coll, filter) => {
        if (opts.failCount) throw new Error('MongoServerError: operation exceeded time limit');
        return (data[coll] ?? []).filter((d) => Object.entries(filter).every(([k, v]) => d[k] === v)).length;
      },
      close: async () => {
        calls.closed = true;
      },
    };
  };
  return { connect, calls };
}

let cluster: FakeCluster | undefined;
const secrets = mockClient(SecretsManagerClient);

afterEach(() => {
  cluster?.restore();
  secrets.reset();
});

const DATA = {
  orders: [
    { status: 'open', n: 1 },
    { status: 'open', n: 2 },
    { status: 'closed', n: 3 },
  ],
  customers: [{ name: 'x' }],
};

const DATA_CHECKS = [
  { id: 'collections', collections: { orders: { minDocuments: 3 }, customers: {} } },
  { id: 'open-orders', find: { collection: 'orders', filter: { status: 'open' } }, count: { equals: 2 } },
];

function ctx(checks: unknown[] | undefined, created = RESTORED) {
  if (!cluster) throw new Error('no cluster');
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: 'validator', password: 'pw' }) });
  return testContext({
    resourceType: 'DocumentDB',
    createdResourceArn: ARN(created),
    sourceResourceArn: ARN(SOURCE),
    checks,
    connection: { database: 'shop', secretArn: SECRET },
    options: { temporaryInstancePollSeconds: 0.01 },
    clients: {
      docdb: cluster.client as DocDBClient,
      secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    },
  });
}

describe('documentdbValidator', () => {
  it('checks the cluster state without creating an instance when the profile has no data checks', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const run = await runValidator(createDocumentDbValidator(), ctx(undefined));
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['cluster-status', 'pass'],
      ['encryption', 'pass'],
      ['engine', 'pass'],
    ]);
    expect(cluster.created()).toBeUndefined();
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('queries through a temporary instance and deletes it afterwards', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const store = memoryStore(DATA);
    const run = await runValidator(createDocumentDbValidator({ connect: store.connect }), ctx(DATA_CHECKS));
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['cluster-status', 'pass'],
      ['encryption', 'pass'],
      ['engine', 'pass'],
      ['collections', 'pass'],
      ['open-orders', 'pass'],
    ]);
    const created = cluster.created();
    expect(created?.instanceClass).toBe('db.t4g.medium');
    expect(created?.identifier).toMatch(/^awsbackup-restore-test-9f8e7d6c-rv-[0-9a-f]{6}$/);
    expect(created?.tags?.map((t) => t.Key)).toContain(createdByTag);
    expect(cluster.deleted()).toEqual([created?.identifier]);
    expect(store.calls.connect).toMatchObject({
      username: 'validator',
      tls: true,
      host: `${created?.identifier}.cluster.local`,
      port: 27017,
    });
    expect(store.calls.closed).toBe(true);
    expect(run.notes).toMatchObject({ temporaryInstanceDeleted: { outcome: 'deleting' } });
  });

  it('deletes the temporary instance when the query fails', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const store = memoryStore(DATA, { failCount: true });
    const run = await runValidator(createDocumentDbValidator({ connect: store.connect }), ctx(DATA_CHECKS));
    expect(run.results.find((r) => r.id === 'open-orders')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('exceeded time limit'),
    });
    expect(cluster.deleted()).toHaveLength(1);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails an empty collection when the profile gives no minDocuments, and accepts it with 0', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const store = memoryStore({ orders: DATA.orders, customers: [], audit: [] });
    const run = await runValidator(
      createDocumentDbValidator({ connect: store.connect }),
      ctx([
        { id: 'default-min', collections: { orders: {}, customers: {} } },
        { id: 'may-be-empty', collections: { audit: { minDocuments: 0 } } },
      ]),
    );
    expect(run.results.find((r) => r.id === 'default-min')).toMatchObject({
      status: 'fail',
      detail: 'collection customers: exists, 0 documents (min 1)',
    });
    expect(run.results.find((r) => r.id === 'may-be-empty')).toMatchObject({
      status: 'pass',
      detail: 'all 1 collection(s) present in shop (audit: 0)',
    });
  });

  it('fails when a collection is missing or holds too few documents, or the find count differs', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const store = memoryStore({ orders: DATA.orders.slice(0, 1) });
    const run = await runValidator(createDocumentDbValidator({ connect: store.connect }), ctx(DATA_CHECKS));
    expect(run.results.find((r) => r.id === 'collections')?.detail).toBe(
      'collection orders holds 1 documents, fewer than 3; collection customers is missing',
    );
    expect(run.results.find((r) => r.id === 'open-orders')).toMatchObject({
      status: 'fail',
      detail: 'orders: matching document count is 1, expected 2',
    });
    expect(cluster.deleted()).toHaveLength(1);
  });

  it('refuses to touch a cluster that is not a restore-test cluster', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: 'orders-docs-prod', source: SOURCE });
    const run = await runValidator(
      createDocumentDbValidator({ connect: memoryStore(DATA).connect }),
      ctx(DATA_CHECKS, 'orders-docs-prod'),
    );
    expect(run.results[0]).toMatchObject({
      id: 'restored-resource',
      status: 'error',
      detail: expect.stringContaining('safety guard: refusing to validate orders-docs-prod'),
    });
    expect(
      cluster.mock.commandCalls((await import('@aws-sdk/client-docdb')).CreateDBInstanceCommand),
    ).toHaveLength(0);
    expect(cluster.deleted()).toEqual([]);
  });

  it('fails the verdict when the temporary instance cannot be deleted', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE, deleteFails: true });
    const run = await runValidator(
      createDocumentDbValidator({ connect: memoryStore(DATA).connect }),
      ctx(DATA_CHECKS),
    );
    expect(run.results.find((r) => r.id === 'cleanup')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('was left behind'),
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('reports the data checks as not run when no secret is configured', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE });
    const input = ctx(DATA_CHECKS);
    const noSecret = {
      ...input,
      profile: input.profile
        ? { ...input.profile, connection: { ...input.profile.connection, secretArn: undefined } }
        : undefined,
    };
    const run = await runValidator(
      createDocumentDbValidator({ connect: memoryStore(DATA).connect }),
      noSecret as typeof input,
    );
    expect(run.results.find((r) => r.id === 'collections')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('give connection.secretArn'),
    });
    expect(cluster.deleted()).toHaveLength(1);
  });

  it('fails the encryption check when the restore is unencrypted', async () => {
    cluster = fakeCluster({ service: 'docdb', identifier: RESTORED, source: SOURCE, encrypted: false });
    const run = await runValidator(createDocumentDbValidator(), ctx(undefined));
    // Both sides unencrypted here: reported, not failed.
    expect(run.results.find((r) => r.id === 'encryption')).toMatchObject({
      status: 'skip',
      detail: `storage not encrypted, as the source ${SOURCE}`,
    });
  });
});
