import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import type { ResourceTypeModule } from '../resource-type';

export const documentdb: ResourceTypeModule = {
  validator: async () => (await import('./validator')).documentdbValidator,
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
};
