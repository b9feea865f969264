import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from './cluster';
import type { ValidatorTypeSpec } from './spec';

export const documentdb: ValidatorTypeSpec = {
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
};
