import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import type { ResourceTypeModule } from '../resource-type';

export const aurora: ResourceTypeModule = {
  validator: async () => (await import('./validator')).auroraValidator,
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
  cli: () => import('./cli'),
};
