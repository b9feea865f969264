/**
 * Bundles the path-check program into one CommonJS file for plain `node` on the helper (Node built-ins
 * only), small enough to ship inline, gzip+base64, in an SSM Run Command parameter.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const PATH_CHECK_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Returns the bundled program's source. */
export async function bundlePathCheck(): Promise<string> {
  const result = await build({
    entryPoints: [PATH_CHECK_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: false,
    outdir: 'out',
    logLevel: 'silent',
  });
  const file = result.outputFiles?.[0];
  if (!file) throw new Error('esbuild produced no output for the path-check program');
  return file.text;
}
