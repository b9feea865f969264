/**
 * Child process of bench/s3.ts, so each measurement gets its own peak RSS. Prints one JSON line.
 *   tsx bench/_s3-child.ts compare ENDPOINT SOURCE RESTORED [no-trust] → full comparison (the engine the validator runs)
 *   tsx bench/_s3-child.ts head-cost keep-alive|close N        → CPU per HeadObject against a local server
 *   tsx bench/_s3-child.ts stream ENDPOINT BUCKET KEY          → streams one object through the CRC32C proof path
 *   tsx bench/_s3-child.ts drain ENDPOINT BUCKET KEY           → the same GetObject read without hashing (server baseline)
 *   tsx bench/_s3-child.ts stream-local MIB                    → the same path over an in-memory transport (no server)
 *   tsx bench/_s3-child.ts raw-hash MIB                        → CRC32C of the same bytes in a loop, no I/O
 */
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

/** Counts the requests a client sends, by command. */
function countRequests(s3: S3Client): Record<string, number> {
  const requests: Record<string, number> = {};
  s3.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      requests[name] = (requests[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return requests;
}

if (mode === 'compare') {
  const s3 = createS3Client({ endpoint: a, region: 'us-east-1' });
  const requests = countRequests(s3);
  const result = await runComparison(s3, {
    restoredBucket: c,
    reference: { with: 'source', bucket: b, versioned: false },
    mode: 'full',
    filter: {},
    trustListingEtags: process.argv[6] !== 'no-trust',
  });
  extra = { counts: result.counts, provenBy: result.provenBy, requests };
} else if (mode === 'head-cost') {
  // CPU per HeadObject through the validator's client against a local server that answers like S3
  // (keep-alive) or like moto's Werkzeug server (`Connection: close`: a new TCP connection per request).
  const close = a === 'close';
  const server = createServer((_req, res) => {
    res.writeHead(200, {
      etag: '"2c2f1edb5aac06c6c201d1fe8916de7d"',
      'content-length': '12',
      'x-amz-checksum-crc32': 's6XI6w==',
      'last-modified': 'Thu, 03 Dec 2026 07:39:00 GMT',
      ...(close ? { connection: 'close' } : {}),
    });
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const s3 = createS3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' });
  const n = Number(b || 4000);
  const heads = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const key = `k${next++}`;
          await s3.send(new HeadObjectCommand({ Bucket: 'b', Key: key, ChecksumMode: 'ENABLED' }));
        }
      }),
    );
  };
  await heads(); // warm-up: client set-up and JIT are fixed costs
  started = performance.now();
  cpu0 = process.cpuUsage();
  await heads();
  extra = { heads: n };
  server.close();
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
// The HEAD server's keep-alive sockets would hold the process open.
if (mode === 'head-cost') process.exit(0);
