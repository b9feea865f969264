import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import type { ResourceTypeModule } from '../resource-type';
import { collectionsKind, findKind } from './kinds';

export const documentdb: ResourceTypeModule = {
  validator: async () => (await import('./validator')).documentdbValidator,
  checkKinds: [collectionsKind, findKind],
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
};
