/**
 * The DocumentDB validator. State checks on the restored cluster (available, encrypted, engine as the
 * source); when the profile has `collections` or `find` checks, a temporary instance is created on the
 * restored cluster (it has none), the checks query it through the `mongodb` driver, and the instance is
 * always deleted afterwards.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type CheckDefinition, defineCheck, errored, fail, pass } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import {
  type ClusterFacts,
  cleanupCluster,
  clusterStateChecks,
  gatherCluster,
} from '../../shared/cluster/cluster';
import type { InstanceControlPlane } from '../../shared/cluster/temporary-instance';
import { type Expectation, optionsOf } from '../../shared/config/index';
import { reasonOf } from '../../shared/errors';
import { withRetry } from '../../shared/retry';
import { evaluateExpectation } from '../../shared/sql/expect';
import { defineValidator, type ValidationContext, type ValidatorDefinition } from '../../shared/validator';
import { connectDocumentDb, type DocumentStore, type DocumentStoreFactory } from './data';
import { collectionsKind, findKind } from './kinds';

registerClients({ secrets: SecretsManagerClient });

export interface DocumentDbFacts extends ClusterFacts {
  /** Opens (once) the connection the data checks share. */
  readonly store: () => Promise<DocumentStore>;
  readonly database?: string;
  readonly closeStore: () => Promise<void>;
}

const DATA_KINDS = new Set(['collections', 'find']);

export interface DocumentDbValidatorOptions {
  /** Test seam: how a connection is opened (default: the mongodb driver). */
  readonly connect?: DocumentStoreFactory;
  /** Test seam: the control plane of the temporary instance. */
  readonly controlPlane?: InstanceControlPlane;
}

async function credentials(ctx: ValidationContext): Promise<{ username: string; password: string }> {
  const secretArn = ctx.profile?.connection?.secretArn;
  if (!secretArn)
    throw new Error(
      'give connection.secretArn: a Secrets Manager secret with the username and password of a read-only user',
    );
  const out = await withRetry(
    () => ctx.clients.secrets.send(new GetSecretValueCommand({ SecretId: secretArn })),
    { deadline: ctx.deadline, signal: ctx.signal },
  );
  let parsed: { username?: unknown; password?: unknown };
  try {
    parsed = JSON.parse(out.SecretString ?? '{}') as { username?: unknown; password?: unknown };
  } catch {
    throw new Error(`secret ${secretArn} is not JSON with username and password`);
  }
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string')
    throw new Error(`secret ${secretArn} lacks a username or password`);
  return { username: parsed.username, password: parsed.password };
}

/** Builds the validator; `documentdbValidator` is the one the handler uses. */
export function createDocumentDbValidator(
  options: DocumentDbValidatorOptions = {},
): ValidatorDefinition<DocumentDbFacts> {
  const connect = options.connect ?? connectDocumentDb;
  return defineValidator<DocumentDbFacts>({
    name: 'documentdb',
    resourceTypes: ['DocumentDB'],

    async gather(ctx) {
      const needsData = (ctx.profile?.checks ?? []).some((c) => DATA_KINDS.has(c.kind));
      const facts = await gatherCluster(ctx, {
        service: 'docdb',
        engine: 'docdb',
        needsData,
        controlPlane: options.controlPlane,
      });
      let opened: Promise<DocumentStore> | undefined;
      const store = () => {
        opened ??= (async () => {
          const access = facts.data;
          if (!access?.host || !access.port)
            throw new Error(access?.problem ?? 'no temporary instance endpoint');
          const creds = await credentials(ctx);
          return connect({
            host: access.host,
            port: access.port,
            ...creds,
            tls: ctx.profile?.connection?.tls ?? true,
            connectTimeoutMs: 20_000,
          });
        })();
        return opened;
      };
      const closeStore = async () => {
        if (!opened) return;
        const s = await opened.catch(() => undefined);
        await s?.close();
      };
      return { ...facts, store, closeStore, database: ctx.profile?.connection?.database };
    },

    checks(ctx) {
      const checks: CheckDefinition<DocumentDbFacts>[] = clusterStateChecks<DocumentDbFacts>('docdb');
      const timeoutMs = (ctx.profile?.connection?.statementTimeoutSeconds ?? 30) * 1000;
      for (const c of ctx.profile?.checks ?? []) {
        if (c.kind === 'collections') {
          checks.push(collectionsCheck(c.id, optionsOf(collectionsKind, c).collections, timeoutMs));
        } else if (c.kind === 'find') {
          const f = optionsOf(findKind, c);
          checks.push(findCheck(c.id, f.find, f.count, timeoutMs));
        }
      }
      return checks;
    },

    async cleanup(ctx, facts) {
      // Close the connection first: the instance is about to go away under it.
      await facts
        ?.closeStore()
        .catch((err) =>
          ctx.logger.warn('closing the DocumentDB connection failed', { reason: reasonOf(err) }),
        );
      await cleanupCluster(ctx);
    },
  });
}

async function openStore(f: DocumentDbFacts): Promise<{ store?: DocumentStore; problem?: string }> {
  if (f.data?.problem) return { problem: `not run: ${f.data.problem}` };
  if (!f.database)
    return { problem: 'not run: give connection.database (the database the collections live in)' };
  try {
    return { store: await f.store() };
  } catch (err) {
    return { problem: `could not connect to the temporary instance: ${reasonOf(err)}` };
  }
}

function collectionsCheck(
  id: string,
  collections: Record<string, { minDocuments?: number }>,
  timeoutMs: number,
): CheckDefinition<DocumentDbFacts> {
  return defineCheck<DocumentDbFacts>({
    id,
    description: 'collections exist, with a minimum number of documents (default 1)',
    async run(f) {
      const { store, problem } = await openStore(f);
      if (!store || !f.database) return errored(problem ?? 'not run');
      const names = new Set(await store.collectionNames(f.database));
      const problems: string[] = [];
      const counts: Record<string, number> = {};
      for (const [name, want] of Object.entries(collections)) {
        if (!names.has(name)) {
          problems.push(`collection ${name} is missing`);
          continue;
        }
        // Default 1: an empty collection is not a restored one unless the profile says 0.
        const min = want.minDocuments ?? 1;
        const n = await store.countDocuments(f.database, name, {}, timeoutMs);
        counts[name] = n;
        if (n < min)
          problems.push(
            n === 0
              ? `collection ${name}: exists, 0 documents (min ${min})`
              : `collection ${name} holds ${n} documents, fewer than ${min}`,
          );
      }
      const total = Object.keys(collections).length;
      return problems.length
        ? fail(problems.join('; '), { counts })
        : pass(
            `all ${total} collection(s) present in ${f.database}${
              Object.keys(counts).length
                ? ` (${Object.entries(counts)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(', ')})`
                : ''
            }`,
            { counts },
          );
    },
  });
}

function findCheck(
  id: string,
  find: { collection: string; filter: Record<string, unknown> },
  expect: Expectation,
  timeoutMs: number,
): CheckDefinition<DocumentDbFacts> {
  return defineCheck<DocumentDbFacts>({
    id,
    description: `documents of ${find.collection} matching a filter`,
    async run(f) {
      const { store, problem } = await openStore(f);
      if (!store || !f.database) return errored(problem ?? 'not run');
      const names = await store.collectionNames(f.database);
      if (!names.includes(find.collection))
        return fail(`collection ${find.collection} is missing from ${f.database}`);
      const n = await store.countDocuments(f.database, find.collection, find.filter, timeoutMs);
      const why = evaluateExpectation('matching document count', n, expect);
      return why
        ? fail(`${find.collection}: ${why}`, { count: n })
        : pass(`${n} document(s) of ${find.collection} match the filter`, { count: n });
    },
  });
}

export const documentdbValidator = createDocumentDbValidator();
