/**
 * Bundles the mount-check program into a single CommonJS file for plain `node` (no node_modules on
 * the helper). It uses only Node built-ins, so the bundle is small enough to ship inline in an SSM
 * Run Command parameter (base64).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const MOUNT_CHECK_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Returns the bundled program's source (or writes it to `outfile`). */
export async function bundleMountCheck(outfile?: string): Promise<string> {
  const result = await build({
    entryPoints: [MOUNT_CHECK_ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    write: Boolean(outfile),
    ...(outfile ? { outfile } : { outdir: 'out' }),
    logLevel: 'silent',
  });
  if (outfile) return outfile;
  const file = result.outputFiles?.[0];
  if (!file) throw new Error('esbuild produced no output for the mount-check program');
  return file.text;
}
