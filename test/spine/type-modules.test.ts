/**
 * Where the type modules (functions/<type>/type.ts, functions/types.ts) may be loaded: by infra and
 * the CLI, never by a Lambda (their IAM statements would ship in every bundle); and loading them must
 * not load aws-cdk-lib or a driver (the CLI reads them at startup). Checked on esbuild's import graph,
 * static imports only: a lazy `() => import('./cli')` is loaded when `check <type>` runs, not before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPE_MODULES } from '../../functions/types';
import { esbuildOptions, PROJECT_ROOT } from '../../infra/bundling';
import { checkKinds } from '../../shared/config/index';
import { RESOURCE_TYPES_BY_VALIDATOR, VALIDATOR_TYPES } from '../../shared/resource-types';

/** Every module the entries load before any dynamic import runs (project paths and package names). */
async function staticallyLoaded(entries: readonly string[]): Promise<Set<string>> {
  const { metafile } = await build({
    ...esbuildOptions,
    entryPoints: entries.map((e) => join(PROJECT_ROOT, e)),
    outdir: join(PROJECT_ROOT, 'unused-out'),
    packages: 'external',
    write: false,
    sourcemap: false,
    metafile: true,
    logLevel: 'error',
  });
  const inputs: Metafile['inputs'] = metafile.inputs;
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const i of inputs[path]?.imports ?? []) if (i.kind !== 'dynamic-import') queue.push(i.path);
  }
  return seen;
}

const TYPE_MODULE = /^functions\/([a-z0-9]+\/type|types|resource-type|cluster-type)\.ts$/;

describe('type modules', () => {
  it('are in no validator bundle', async () => {
    const loaded = await staticallyLoaded(VALIDATOR_TYPES.map((t) => `functions/${t}/handler.ts`));
    expect(loaded.has('shared/lifecycle.ts')).toBe(true);
    expect([...loaded].filter((p) => TYPE_MODULE.test(p) || p.startsWith('infra/'))).toEqual([]);
    expect([...loaded].filter((p) => p.startsWith('aws-cdk-lib'))).toEqual([]);
  }, 60_000);

  it('load neither aws-cdk-lib, nor a driver, nor a CLI target when the CLI starts', async () => {
    const loaded = await staticallyLoaded(['bin/targets.ts']);
    for (const t of VALIDATOR_TYPES) expect(loaded.has(`functions/${t}/type.ts`), t).toBe(true);
    expect(
      [...loaded].filter(
        (p) => /^(aws-cdk-lib|constructs|pg|mysql2|mongodb|@aws-sdk\/)/.test(p) || p.endsWith('/cli.ts'),
      ),
    ).toEqual([]);
  }, 60_000);

  it.each(VALIDATOR_TYPES)(
    '%s declares the validator its handler wraps, serving its resource types',
    async (t) => {
      const declared = await RESOURCE_TYPE_MODULES[t].validator();
      const handlerSource = readFileSync(join(PROJECT_ROOT, 'functions', t, 'handler.ts'), 'utf8');
      expect(handlerSource).toContain(`createValidatorHandler(${t}Validator)`);
      const mod = (await import(`../../functions/${t}/validator.ts`)) as Record<string, unknown>;
      expect(declared).toBe(mod[`${t}Validator`]);
      expect(declared.name).toBe(t);
      expect(declared.resourceTypes).toEqual(RESOURCE_TYPES_BY_VALIDATOR[t]);
    },
  );

  it.each(VALIDATOR_TYPES)(
    '%s lists exactly the check kinds the config allows for its resource types',
    (t) => {
      const served: readonly string[] = RESOURCE_TYPES_BY_VALIDATOR[t];
      const allowed = checkKinds()
        .filter((k) => k.resourceTypes?.some((rt) => served.includes(rt)))
        .map((k) => k.key);
      const listed = RESOURCE_TYPE_MODULES[t].checkKinds.map((k) => k.key);
      expect([...listed].sort()).toEqual([...allowed].sort());
      // A listed kind is allowed for every resource type the validator serves (DynamoDB.FullyManaged too).
      for (const k of RESOURCE_TYPE_MODULES[t].checkKinds)
        expect(k.resourceTypes, k.key).toEqual(expect.arrayContaining([...served]));
    },
  );
});
