/**
 * The Neptune validator. State checks on the restored cluster (available, encrypted, engine as the
 * source); when the profile has `query` checks, a temporary instance is created on the restored cluster
 * (it has none), the queries run against its HTTPS endpoint (SigV4-signed when the cluster uses IAM
 * database authentication), and the instance is always deleted afterwards.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */

import { NeptuneClient } from '@aws-sdk/client-neptune';
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
import { evaluateExpectation } from '../../shared/sql/expect';
import { defineValidator, type ValidationContext, type ValidatorDefinition } from '../../shared/validator';
import { graphQueryKind } from './kinds';
import { type AwsCredentials, type GraphQuery, runGraphQuery } from './query';

registerClients({ neptune: NeptuneClient });

export interface NeptuneFacts extends ClusterFacts {
  /** `https://<temporary instance>:8182`, or the profile's `options.endpointUrl`. */
  readonly endpoint?: string;
  readonly iam?: { readonly region: string; readonly credentials: () => Promise<AwsCredentials> };
  readonly queryTimeoutMs: number;
}

export interface NeptuneValidatorOptions {
  /** Test seam: the control plane of the temporary instance. */
  readonly controlPlane?: InstanceControlPlane;
}

function iamSigning(ctx: ValidationContext, required: boolean): NeptuneFacts['iam'] {
  const forced = ctx.profile?.connection?.iamAuth;
  if (!(forced ?? required)) return undefined;
  const region = ctx.job.region ?? ctx.job.created?.region ?? 'us-east-1';
  return {
    region,
    credentials: async () => {
      const provider = ctx.clients.neptune.config.credentials;
      const c = await provider();
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    },
  };
}

/** Builds the validator; `neptuneValidator` is the one the handler uses. */
export function createNeptuneValidator(
  options: NeptuneValidatorOptions = {},
): ValidatorDefinition<NeptuneFacts> {
  return defineValidator<NeptuneFacts>({
    name: 'neptune',
    resourceTypes: ['Neptune'],

    async gather(ctx) {
      const needsData = (ctx.profile?.checks ?? []).some((c) => c.kind === 'query');
      const facts = await gatherCluster(ctx, {
        service: 'neptune',
        engine: 'neptune',
        needsData,
        controlPlane: options.controlPlane,
      });
      const override =
        typeof ctx.profile?.options?.endpointUrl === 'string' ? ctx.profile.options.endpointUrl : undefined;
      const endpoint = facts.data?.host
        ? (override ?? `https://${facts.data.host}:${facts.data.port ?? 8182}`)
        : undefined;
      return {
        ...facts,
        endpoint,
        iam: iamSigning(ctx, facts.cluster.iamAuth),
        queryTimeoutMs: (ctx.profile?.connection?.statementTimeoutSeconds ?? 30) * 1000,
      };
    },

    checks(ctx) {
      const checks: CheckDefinition<NeptuneFacts>[] = clusterStateChecks<NeptuneFacts>('neptune');
      for (const c of ctx.profile?.checks ?? []) {
        if (c.kind !== 'query') continue;
        const q = optionsOf(graphQueryKind, c);
        checks.push(queryCheck(c.id, q.query, q.expect));
      }
      return checks;
    },

    async cleanup(ctx) {
      await cleanupCluster(ctx);
    },
  });
}

function queryCheck(id: string, query: GraphQuery, expect: Expectation): CheckDefinition<NeptuneFacts> {
  return defineCheck<NeptuneFacts>({
    id,
    description: `${query.language} query with an expected result`,
    async run(f, { signal }) {
      if (f.data?.problem) return errored(`not run: ${f.data.problem}`);
      if (!f.endpoint) return errored('not run: no temporary instance endpoint');
      let value: unknown;
      try {
        value = await runGraphQuery(query, {
          endpoint: f.endpoint,
          iam: f.iam,
          timeoutMs: f.queryTimeoutMs,
          signal,
        });
      } catch (err) {
        return errored(`${query.language} query failed: ${reasonOf(err)}`);
      }
      const why = evaluateExpectation('query result', value, expect);
      const signed = f.iam ? ' (IAM-signed)' : '';
      return why
        ? fail(`${query.language}${signed}: ${why}`)
        : pass(
            `${query.language}${signed} query result ${typeof value === 'number' ? value : 'as expected'}`,
            typeof value === 'number' ? { value } : undefined,
          );
    },
  });
}

export const neptuneValidator = createNeptuneValidator();
