import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NeptuneClient } from '@aws-sdk/client-neptune';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resultValue, runGraphQuery } from '../../functions/neptune/query';
import { createNeptuneValidator } from '../../functions/neptune/validator';
import { runValidator } from '../../shared/validator';
import { type FakeCluster, fakeCluster } from '../documentdb/fake-cluster';
import { testContext } from '../support/validator-context';

const RESTORED = 'awsbackup-restore-test-5e6f7a8b';
const SOURCE = 'graph-prod';
const ARN = (id: string) => `arn:aws:rds:us-east-1:123456789012:cluster:${id}`;

interface Seen {
  path?: string;
  body?: string;
  authorization?: string;
}

/** A local stand-in for Neptune's HTTP query endpoint: answers in the openCypher and Gremlin response shapes. */
let server: Server;
let endpoint: string;
let seen: Seen = {};
const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    seen = { path: req.url, body, authorization: req.headers.authorization };
    res.setHeader('content-type', 'application/json');
    if (req.url === '/openCypher') {
      const query = new URLSearchParams(body).get('query') ?? '';
      if (query.includes('BROKEN')) {
        res.statusCode = 400;
        res.end(JSON.stringify({ code: 'MalformedQueryException', detailedMessage: 'bad', requestId: '1' }));
        return;
      }
      res.end(JSON.stringify({ results: [{ 'count(n)': query.includes(':Person') ? 42 : 0 }] }));
      return;
    }
    if (req.url === '/gremlin') {
      res.end(
        JSON.stringify({
          requestId: '2',
          status: { message: '', code: 200 },
          result: { data: { '@type': 'g:List', '@value': [{ '@type': 'g:Int64', '@value': 7 }] }, meta: {} },
        }),
      );
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

let cluster: FakeCluster | undefined;
afterEach(() => cluster?.restore());

function ctx(checks: unknown[] | undefined, iamAuth?: boolean) {
  if (!cluster) throw new Error('no cluster');
  return testContext({
    resourceType: 'Neptune',
    createdResourceArn: ARN(RESTORED),
    sourceResourceArn: ARN(SOURCE),
    checks,
    options: { temporaryInstancePollSeconds: 0.01, endpointUrl: endpoint },
    ...(iamAuth !== undefined ? { connection: { iamAuth } } : {}),
    clients: { neptune: cluster.client as NeptuneClient },
    deadlineMs: 50_000,
  });
}

describe('neptuneValidator', () => {
  it('runs an openCypher count on a temporary instance and deletes the instance', async () => {
    cluster = fakeCluster({
      service: 'neptune',
      identifier: RESTORED,
      source: SOURCE,
      port: 8182,
      engineVersion: '1.3.2.0',
    });
    const run = await runValidator(
      createNeptuneValidator(),
      ctx([
        {
          id: 'people',
          query: { language: 'opencypher', text: 'MATCH (n:Person) RETURN count(n)' },
          expect: { min: 40 },
        },
      ]),
    );
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['cluster-status', 'pass'],
      ['encryption', 'pass'],
      ['engine', 'pass'],
      ['people', 'pass'],
    ]);
    expect(run.results.find((r) => r.id === 'people')?.detail).toBe('opencypher query result 42');
    expect(seen.authorization).toBeUndefined();
    expect(cluster.deleted()).toHaveLength(1);
  });

  it('fails when the count does not meet the expectation', async () => {
    cluster = fakeCluster({ service: 'neptune', identifier: RESTORED, source: SOURCE, port: 8182 });
    const run = await runValidator(
      createNeptuneValidator(),
      ctx([{ id: 'edges', query: { language: 'gremlin', text: 'g.E().count()' }, expect: { equals: 8 } }]),
    );
    expect(run.results.find((r) => r.id === 'edges')).toMatchObject({
      status: 'fail',
      detail: 'gremlin: query result is 7, expected 8',
    });
    expect(seen.path).toBe('/gremlin');
    expect(JSON.parse(seen.body ?? '{}')).toEqual({ gremlin: 'g.E().count()' });
  });

  it('deletes the temporary instance when the query fails', async () => {
    cluster = fakeCluster({ service: 'neptune', identifier: RESTORED, source: SOURCE, port: 8182 });
    const run = await runValidator(
      createNeptuneValidator(),
      ctx([{ id: 'bad', query: { language: 'opencypher', text: 'BROKEN' }, expect: { min: 1 } }]),
    );
    expect(run.results.find((r) => r.id === 'bad')).toMatchObject({
      status: 'error',
      detail: 'opencypher query failed: Neptune refused the query: HTTP 400 (MalformedQueryException)',
    });
    expect(cluster.deleted()).toHaveLength(1);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('signs the query with SigV4 for neptune-db when the cluster requires IAM authentication', async () => {
    cluster = fakeCluster({
      service: 'neptune',
      identifier: RESTORED,
      source: SOURCE,
      port: 8182,
      iamAuth: true,
    });
    const run = await runValidator(
      createNeptuneValidator(),
      ctx([
        {
          id: 'people',
          query: { language: 'opencypher', text: 'MATCH (n:Person) RETURN count(n)' },
          expect: { equals: 42 },
        },
      ]),
    );
    expect(run.results.find((r) => r.id === 'people')).toMatchObject({
      status: 'pass',
      detail: 'opencypher (IAM-signed) query result 42',
    });
    expect(seen.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/neptune-db\/aws4_request, SignedHeaders=.*host/,
    );
  });

  it('fails the engine check when the cluster is not a Neptune cluster', async () => {
    cluster = fakeCluster({
      service: 'neptune',
      identifier: RESTORED,
      source: SOURCE,
      engine: 'aurora-postgresql',
    });
    const run = await runValidator(createNeptuneValidator(), ctx(undefined));
    expect(run.results.find((r) => r.id === 'engine')).toMatchObject({
      status: 'fail',
      detail: 'engine is aurora-postgresql 5.0.0, expected neptune',
    });
    expect(cluster.created()).toBeUndefined();
  });
});

describe('resultValue', () => {
  it('reads the single value of openCypher and Gremlin answers and rejects other shapes', () => {
    expect(resultValue('opencypher', { results: [{ n: 3 }] })).toBe(3);
    expect(resultValue('opencypher', { results: [] })).toBeNull();
    expect(() => resultValue('opencypher', { results: [{ a: 1, b: 2 }] })).toThrow('one column');
    expect(resultValue('gremlin', { result: { data: [5] } })).toBe(5);
    expect(() => resultValue('gremlin', { nothing: true })).toThrow('no result list');
  });

  it('talks to a plain HTTP endpoint for local testing', async () => {
    await expect(
      runGraphQuery(
        { language: 'opencypher', text: 'MATCH (n:Person) RETURN count(n)' },
        { endpoint, timeoutMs: 5_000 },
      ),
    ).resolves.toBe(42);
  });
});
