/**
 * The S3 client the validator reads with. Two settings differ from the SDK defaults, both for speed:
 * the SDK's own response checksum validation is off (the engine hashes what it needs itself, once),
 * and the CRC32/CRC32C implementations are the native ones from `@node-rs/crc32` (~10x the SDK's JS
 * CRC32C). Retries use the adaptive mode so `SlowDown` (503) backs the whole client off.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
 */

import { crc32 as zlibCrc32 } from 'node:zlib';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { registerClients, sdkClientConfig } from '../../shared/clients';
import { crc32c } from '../../shared/crc32c';
import type { ValidationContext } from '../../shared/validator';

registerClients({ s3: S3Client });

/** A streaming CRC in the SDK's `Checksum` shape: `update`, `digest` (4 big-endian bytes), `reset`. */
function crcChecksum(fn: (data: Uint8Array, initial: number) => number) {
  return class NativeCrc {
    #state = 0;
    update(data: Uint8Array): void {
      this.#state = fn(data, this.#state) >>> 0;
    }
    async digest(): Promise<Uint8Array> {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, this.#state >>> 0, false);
      return out;
    }
    reset(): void {
      this.#state = 0;
    }
  };
}

/** Native CRC32 (zlib) and CRC32C (`@node-rs/crc32`) for the client's `checksumAlgorithms` option. */
export const nativeChecksumAlgorithms = {
  CRC32: crcChecksum((d, s) => zlibCrc32(d, s)),
  CRC32C: crcChecksum((d, s) => crc32c(Buffer.from(d.buffer, d.byteOffset, d.byteLength), s)),
};

export interface S3ClientOptions {
  readonly region?: string;
  readonly endpoint?: string;
  /** Defaults to true when an endpoint is given (moto, MinIO and most S3-compatible servers need it). */
  readonly forcePathStyle?: boolean;
  readonly maxAttempts?: number;
  /** Copied from another client (credentials, region providers). */
  readonly base?: Partial<S3ClientConfig>;
}

/** Builds the validator's S3 client. */
export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...options.base,
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle:
      options.forcePathStyle ?? (options.endpoint ? true : Boolean(options.base?.forcePathStyle)),
    maxAttempts: options.maxAttempts ?? 8,
    retryMode: 'adaptive',
    // The project's connection/request timeouts: no attempt may hang past the deadline.
    requestHandler: sdkClientConfig().requestHandler,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    checksumAlgorithms: nativeChecksumAlgorithms,
  });
}

const derived = new WeakMap<object, S3Client>();

/**
 * The client for this validation. Local mode: built from the CLI flags (`--endpoint-url`, `--region`).
 * Lambda mode: derived from `ctx.clients.s3` (same credentials, region and endpoint, so a test that
 * injects a client pointed at moto is honoured) with the fast checksum settings above.
 */
export function s3ClientFor(ctx: Pick<ValidationContext, 'mode' | 'target' | 'clients' | 'job'>): S3Client {
  if (ctx.mode === 'local') {
    const endpoint = typeof ctx.target.endpointUrl === 'string' ? ctx.target.endpointUrl : undefined;
    const region = typeof ctx.target.region === 'string' ? ctx.target.region : undefined;
    return createS3Client({ endpoint, region });
  }
  const base = ctx.clients.s3;
  let client = derived.get(base);
  if (!client) {
    const cfg = base.config as S3Client['config'] & { isCustomEndpoint?: boolean };
    client = createS3Client({
      base: {
        region: cfg.region,
        credentials: cfg.credentials,
        ...(cfg.isCustomEndpoint && cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
        forcePathStyle: cfg.forcePathStyle,
      },
      ...(ctx.job.region && !cfg.isCustomEndpoint ? { region: ctx.job.region } : {}),
    });
    derived.set(base, client);
  }
  return client;
}
