/**
 * CRC32C with the native `@node-rs/crc32` addon where it can be loaded (this machine: ~5 GB/s), and a
 * table-driven JavaScript fallback elsewhere (~0.4 GB/s). The addon is a platform-specific binary, so
 * Lambda bundles leave it out (it is `external` in infra/bundling.ts) and use the fallback unless the
 * addon for the function's architecture is shipped beside the bundle.
 */
import { createRequire } from 'node:module';

type Crc = (data: Uint8Array, seed?: number) => number;

function loadNative(): Crc | undefined {
  try {
    const require = createRequire(import.meta.url);
    const mod = require('@node-rs/crc32') as { crc32c: (input: Uint8Array, initialState?: number) => number };
    return (data, seed = 0) => mod.crc32c(data, seed);
  } catch {
    return undefined;
  }
}

let table: Uint32Array | undefined;
function jsCrc32c(data: Uint8Array, seed = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) crc = (table[(crc ^ (data[i] ?? 0)) & 0xff] ?? 0) ^ (crc >>> 8);
  return ~crc >>> 0;
}

const native = loadNative();

/** CRC32C of `data`, continuing from `seed` (the previous result) for streaming. */
export const crc32c: Crc = native ?? jsCrc32c;
/** Which implementation is in use (recorded in benchmarks and evidence). */
export const crc32cImplementation: 'native' | 'js' = native ? 'native' : 'js';
export { jsCrc32c as crc32cJs };
