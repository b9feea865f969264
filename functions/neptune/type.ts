import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import { arn, type ResourceTypeModule, statement } from '../resource-type';
import { graphQueryKind } from './kinds';

export const neptune: ResourceTypeModule = {
  validator: async () => (await import('./validator')).neptuneValidator,
  checkKinds: [graphQueryKind],
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: (ctx) => [
    ...clusterStatements(ctx),
    ...statement(
      'QueryRestoredNeptune',
      ['neptune-db:connect', 'neptune-db:ReadDataViaQuery'],
      [arn(ctx.aws, 'neptune-db', '*/*')],
      'the restored cluster resource id is generated at restore time; read-only query access in this account and region',
    ),
  ],
};
