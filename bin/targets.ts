/**
 * The `check <type>` targets: the types whose module (functions/<type>/type.ts) names one, loaded on
 * demand so the CLI starts fast and loads one driver.
 */
import { RESOURCE_TYPE_MODULES } from '../functions/types';
import type { LocalTarget } from '../shared/local';
import { VALIDATOR_TYPES } from '../shared/resource-types';

export const TARGET_TYPES: readonly string[] = VALIDATOR_TYPES.filter((t) => RESOURCE_TYPE_MODULES[t].cli);

export async function loadTarget(type: string): Promise<LocalTarget | undefined> {
  const known = VALIDATOR_TYPES.find((t) => t === type.toLowerCase());
  const load = known && RESOURCE_TYPE_MODULES[known].cli;
  return load ? (await load()).cliTarget : undefined;
}
