/** The `check <type>` targets, loaded on demand so the CLI starts fast and loads one driver. */
import type { LocalTarget } from '../shared/local';

const loaders: Record<string, () => Promise<{ cliTarget?: LocalTarget }>> = {
  rds: () => import('../functions/rds/cli'),
  aurora: () => import('../functions/aurora/cli'),
  ebs: () => import('../functions/ebs/cli'),
  s3: () => import('../functions/s3/cli'),
  dynamodb: () => import('../functions/dynamodb/cli'),
};

export const TARGET_TYPES = Object.keys(loaders);

export async function loadTarget(type: string): Promise<LocalTarget | undefined> {
  const load = loaders[type.toLowerCase()];
  if (!load) return undefined;
  const mod = await load();
  return mod.cliTarget;
}
