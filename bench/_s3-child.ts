/**
 * Child process of bench/s3.ts, so each measurement gets its own peak RSS. Prints one JSON line.
 *   tsx bench/_s3-child.ts compare ENDPOINT SOURCE RESTORED   → full comparison (the engine the validator runs)
 *   tsx bench/_s3-child.ts stream ENDPOINT BUCKET KEY          → streams one object through the CRC32C proof path
 *   tsx bench/_s3-child.ts drain ENDPOINT BUCKET KEY           → the same GetObject read without hashing (server baseline)
 *   tsx bench/_s3-child.ts stream-local MIB                    → the same path over an in-memory transport (no server)
 *   tsx bench/_s3-child.ts raw-hash MIB                        → CRC32C of the same bytes in a loop, no I/O
 */
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { HttpResponse } from '@smithy/core/transport';
import { createS3Client } from '../functions/s3/client';
import { runComparison } from '../functions/s3/comparison';
import { createHasher } from '../functions/s3/hash';
import { hashObject } from '../functions/s3/proof';

const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;
const [mode, a = '', b = '', c = ''] = process.argv.slice(2);
let started = performance.now();
let cpu0 = process.cpuUsage();
let extra: Record<string, unknown> = {};

/** 1 MiB of varied bytes, reused: the source of every streamed byte. */
const chunk = Buffer.alloc(CHUNK);
for (let i = 0; i < CHUNK; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);

if (mode === 'compare') {
  const s3 = createS3Client({ endpoint: a, region: 'us-east-1' });
  const result = await runComparison(s3, {
    restoredBucket: c,
    reference: { with: 'source', bucket: b, versioned: false },
    mode: 'full',
    filter: {},
  });
  extra = { counts: result.counts, provenBy: result.provenBy };
} else if (mode === 'stream') {
  const s3 = createS3Client({ endpoint: a, region: 'us-east-1' });
  const { digests, bytes } = await hashObject({ s3, bucket: b, key: c }, ['CRC32C'], {});
  extra = { bytes, crc32c: digests.CRC32C };
} else if (mode === 'drain') {
  // Baseline for the server: the same GetObject read to the end, hashing nothing.
  const s3 = createS3Client({ endpoint: a, region: 'us-east-1' });
  const { bytes } = await hashObject({ s3, bucket: b, key: c }, [], {});
  extra = { bytes };
} else if (mode === 'stream-local') {
  const size = Number(a) * MiB;
  // An S3 client whose transport serves GetObject from memory: measures the proof path itself.
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    requestHandler: {
      handle: async (request: { path?: string }) => {
        const bytes = request.path?.endsWith('warm-up') ? CHUNK : size;
        return {
          response: new HttpResponse({
            statusCode: 200,
            headers: { 'content-length': String(bytes), 'content-type': 'application/octet-stream' },
            body: Readable.from(
              (function* () {
                for (let sent = 0; sent < bytes; sent += CHUNK) yield chunk;
              })(),
            ),
          }),
        };
      },
    },
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // One small request first: client set-up (endpoint rules, signing) is a fixed cost, not hashing speed.
  await hashObject({ s3, bucket: 'mem', key: 'warm-up' }, ['CRC32C'], {});
  started = performance.now();
  cpu0 = process.cpuUsage();
  const { digests, bytes } = await hashObject({ s3, bucket: 'mem', key: 'object' }, ['CRC32C'], {});
  extra = { bytes, crc32c: digests.CRC32C };
} else if (mode === 'raw-hash') {
  const size = Number(a) * MiB;
  const h = createHasher('CRC32C');
  for (let done = 0; done < size; done += CHUNK) h.update(chunk);
  extra = { bytes: size, crc32c: await h.digest() };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024, ...extra })}\n`,
);
