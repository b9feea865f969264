import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import type { ResourceTypeModule } from '../resource-type';

export const documentdb: ResourceTypeModule = {
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
};
