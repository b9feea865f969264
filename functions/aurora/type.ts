import { freshnessKind, rowCountsKind, sqlKind, tablesKind } from '../../shared/sql/kinds';
import { CLUSTER_TIMEOUT_MINUTES, clusterStatements } from '../cluster-type';
import type { ResourceTypeModule } from '../resource-type';

export const aurora: ResourceTypeModule = {
  validator: async () => (await import('./validator')).auroraValidator,
  checkKinds: [sqlKind, freshnessKind, tablesKind, rowCountsKind],
  timeoutMinutes: CLUSTER_TIMEOUT_MINUTES,
  database: true,
  statements: clusterStatements,
  cli: () => import('./cli'),
};
