/**
 * What the temporary-instance validators' bundles carry of the SDK, from esbuild's metafile with the
 * options the stack ships: the commands they send, not the whole RDS, DocDB or Neptune client. The
 * S3 bundle is checked the same way in bundle-e2e.test.ts.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling';

/** Modules whose code is in the bundle of `entry` (bytes in the output, not merely read). */
async function bundledModules(entry: string): Promise<string[]> {
  const built = await build({
    ...esbuildOptions,
    entryPoints: [join(import.meta.dirname, '../..', entry)],
    write: false,
    sourcemap: false,
    outfile: 'index.mjs',
    logLevel: 'error',
    metafile: true,
  });
  return Object.values(built.metafile.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([path]) => path),
  );
}

/** An aggregated client class (RDS.js, Neptune.js …) imports every command of its service. */
const aggregatedClients = (modules: readonly string[]) =>
  modules.filter((p) =>
    /@aws-sdk\/client-[a-z0-9-]+\/dist-es\/(?![A-Za-z0-9]*Client\.js$)[A-Z][A-Za-z0-9]*\.js$/.test(p),
  );

describe('temporary-instance validator bundles', () => {
  it.each([
    ['functions/aurora/handler.ts', 'client-rds'],
    ['functions/neptune/handler.ts', 'client-neptune'],
    ['functions/documentdb/handler.ts', 'client-docdb'],
  ])(
    '%s carries the %s commands it sends, not the whole client',
    async (entry, client) => {
      const modules = await bundledModules(entry);
      const commands = modules.filter((p) => p.includes(`@aws-sdk/${client}/dist-es/commands/`));
      expect(commands.some((p) => p.endsWith('/CreateDBInstanceCommand.js'))).toBe(true);
      // The validator and its temporary instance send about a dozen commands; the service has hundreds.
      expect(commands.length).toBeLessThan(30);
      expect(aggregatedClients(modules)).toEqual([]);
    },
    120_000,
  );
});
