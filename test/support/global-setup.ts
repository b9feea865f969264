/**
 * Once per test run: one moto server per worker slot, so test files do not each pay for a Python
 * start (seconds on a busy machine). test/support/engines.ts' startMoto hands a file its slot's
 * server after resetting it; a file runs alone in its slot, so no two files share state.
 */
import type { TestProject } from 'vitest/node';
import { type Moto, spawnMoto } from './engines';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoints: readonly string[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const slots = Math.max(1, Number(project.config.maxWorkers) || 1);
  const servers: Moto[] = await Promise.all(Array.from({ length: slots }, () => spawnMoto()));
  project.provide(
    'motoEndpoints',
    servers.map((m) => m.endpoint),
  );
  return async () => {
    await Promise.all(servers.map((m) => m.stop()));
  };
}
