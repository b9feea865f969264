import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from './cluster';
import { arn, statement, type ValidatorTypeSpec } from './spec';

export const neptune: ValidatorTypeSpec = {
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: () => [
    ...clusterStatements(),
    ...statement(
      'QueryRestoredNeptune',
      ['neptune-db:connect', 'neptune-db:ReadDataViaQuery'],
      [arn('neptune-db', '*/*')],
      'the restored cluster resource id is generated at restore time; read-only query access in this account and region',
    ),
  ],
};
