/**
 * Reference manifests: a JSON list of `{key, size, checksum?, etag?}`, an S3 Inventory CSV data file
 * (plain or gzip), or an S3 Inventory `manifest.json` (whose `fileSchema` names the CSV columns and
 * whose `files` are read from the inventory's destination bucket). Inventory keys are URL-encoded.
 * The entries are sorted into S3 key order in memory: a manifest is bounded by what one Lambda can
 * hold (~2-3 million entries in 1 GB); larger ones belong in the Step Functions path with an S3 ItemReader.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html
 */

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { compareKeys, type KeyFilter, keyMatches } from './keys';
import { type ListedObject, unquote } from './listing';

/** Columns when a CSV has neither a header nor a manifest.json schema: S3 Inventory's common order. */
export const DEFAULT_INVENTORY_SCHEMA = 'Bucket, Key, Size, LastModifiedDate, ETag';

/** Splits one CSV line (RFC 4180 quoting). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

const decodeKey = (k: string) => {
  try {
    return decodeURIComponent(k.replace(/\+/g, ' '));
  } catch {
    return k;
  }
};

/** Parses S3 Inventory CSV rows into entries; `schema` is the manifest's `fileSchema`. */
export function parseInventoryCsv(text: string, schema?: string): ListedObject[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let columns = (schema ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  let urlEncoded = true;
  const head = lines[0] ? parseCsvLine(lines[0]).map((c) => c.trim()) : [];
  if (!schema && head.some((c) => /^key$/i.test(c))) {
    // A header row: a hand-made CSV, keys as written.
    columns = head;
    lines.shift();
    urlEncoded = false;
  } else if (columns.length === 0) {
    columns = DEFAULT_INVENTORY_SCHEMA.split(',').map((c) => c.trim());
  }
  const col = (name: string) => columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  const iKey = col('Key');
  if (iKey < 0) throw new Error('the manifest CSV has no Key column');
  const iSize = col('Size');
  if (iSize < 0) throw new Error('the manifest CSV has no Size column (add Size to the inventory fields)');
  const iEtag = col('ETag');
  const iLatest = col('IsLatest');
  const iDelete = col('IsDeleteMarker');
  const iChecksum = col('Checksum');
  const iModified = col('LastModifiedDate');
  const out: ListedObject[] = [];
  for (const line of lines) {
    const f = parseCsvLine(line);
    if (iLatest >= 0 && f[iLatest] === 'false') continue;
    if (iDelete >= 0 && f[iDelete] === 'true') continue;
    const raw = f[iKey] ?? '';
    const modified = iModified >= 0 && f[iModified] ? new Date(f[iModified] ?? '') : undefined;
    out.push({
      key: urlEncoded ? decodeKey(raw) : raw,
      size: Number(f[iSize] ?? 0),
      etag: iEtag >= 0 ? unquote(f[iEtag]) : undefined,
      ...(iChecksum >= 0 && f[iChecksum] ? { checksum: f[iChecksum] } : {}),
      ...(modified && !Number.isNaN(modified.getTime()) ? { lastModified: modified } : {}),
    });
  }
  return out;
}

/** Parses a JSON manifest: `[{key,size,checksum?,etag?}]` or `{objects: [...]}`. */
export function parseJsonManifest(value: unknown): ListedObject[] {
  const list = Array.isArray(value)
    ? value
    : Array.isArray((value as { objects?: unknown })?.objects)
      ? (value as { objects: unknown[] }).objects
      : undefined;
  if (!list)
    throw new Error('a JSON manifest must be a list of {key, size, checksum} (or {"objects": [...]})');
  return list.map((e, i) => {
    const o = e as {
      key?: unknown;
      Key?: unknown;
      size?: unknown;
      Size?: unknown;
      checksum?: unknown;
      etag?: unknown;
      ETag?: unknown;
    };
    const key = o.key ?? o.Key;
    const size = Number(o.size ?? o.Size);
    if (typeof key !== 'string' || key === '') throw new Error(`manifest entry ${i} has no key`);
    if (!Number.isFinite(size) || size < 0) throw new Error(`manifest entry ${i} (${key}) has no valid size`);
    const etag = typeof (o.etag ?? o.ETag) === 'string' ? unquote(String(o.etag ?? o.ETag)) : undefined;
    return {
      key,
      size,
      ...(typeof o.checksum === 'string' ? { checksum: o.checksum } : {}),
      ...(etag ? { etag } : {}),
    };
  });
}

export interface ManifestSource {
  /** Reads an S3 object's bytes (`s3://bucket/key`). */
  readonly s3?: S3Client;
  readonly retry?: RetryOptions;
  readonly signal?: AbortSignal;
}

async function readS3(uri: string, src: ManifestSource): Promise<Buffer> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m || !src.s3) throw new Error(`cannot read manifest ${uri}: expected s3://bucket/key`);
  const s3 = src.s3;
  const [bucket, key] = [m[1] ?? '', m[2] ?? ''];
  return withRetry(async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: src.signal,
    });
    return Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
  }, src.retry);
}

const text = (buf: Buffer) => (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');

/** Loads a manifest (local path or s3:// URI), filtered and sorted into S3 key order, duplicates removed. */
export async function loadManifest(
  location: string,
  filter: KeyFilter,
  src: ManifestSource = {},
): Promise<ListedObject[]> {
  const buf = location.startsWith('s3://') ? await readS3(location, src) : await readFile(location);
  const body = text(buf).trim();
  let entries: ListedObject[];
  if (body.startsWith('[') || body.startsWith('{')) {
    const json: unknown = JSON.parse(body);
    const inv = json as {
      fileSchema?: string;
      files?: { key?: string }[];
      destinationBucket?: string;
      fileFormat?: string;
    };
    if (inv && typeof inv.fileSchema === 'string' && Array.isArray(inv.files)) {
      if (inv.fileFormat && inv.fileFormat.toUpperCase() !== 'CSV')
        throw new Error(`inventory format ${inv.fileFormat} is not supported: use CSV`);
      const bucket = (inv.destinationBucket ?? '').replace(/^arn:aws[a-z-]*:s3:::/, '');
      entries = [];
      for (const f of inv.files)
        entries.push(
          ...parseInventoryCsv(text(await readS3(`s3://${bucket}/${f.key ?? ''}`, src)), inv.fileSchema),
        );
    } else entries = parseJsonManifest(json);
  } else entries = parseInventoryCsv(body);
  const sorted = entries.filter((e) => keyMatches(e.key, filter)).sort((a, b) => compareKeys(a.key, b.key));
  return sorted.filter((e, i) => i === 0 || sorted[i - 1]?.key !== e.key);
}

/** A sorted array as the async stream the engine merges. */
export async function* fromArray(entries: readonly ListedObject[]): AsyncGenerator<ListedObject> {
  for (const e of entries) yield e;
}
