/**
 * Bundles the mount-check program (and the path-check program) into a single CommonJS file for plain
 * `node` (no node_modules on the helper). They use only Node built-ins, so the bundle is small enough
 * to ship inline in an SSM Run Command parameter (base64).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const MOUNT_CHECK_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Returns the bundled program's source (or writes it to `outfile`). */
export async function bundleProgram(entry: string, name: string, outfile?: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
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
  if (!file) throw new Error(`esbuild produced no output for the ${name} program`);
  return file.text;
}

/** Returns the bundled mount-check program's source (or writes it to `outfile`). */
export const bundleMountCheck = (outfile?: string): Promise<string> =>
  bundleProgram(MOUNT_CHECK_ENTRY, 'mount-check', outfile);
