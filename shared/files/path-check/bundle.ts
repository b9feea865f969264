/**
 * Bundles the path-check program into one CommonJS file for plain `node` on the helper (Node built-ins
 * only), small enough to ship inline, gzip+base64, in an SSM Run Command parameter.
 */
import { fileURLToPath } from 'node:url';
import { bundleProgram } from '../mount-check/bundle';

export const PATH_CHECK_ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Returns the bundled program's source. */
export const bundlePathCheck = (): Promise<string> => bundleProgram(PATH_CHECK_ENTRY, 'path-check');
