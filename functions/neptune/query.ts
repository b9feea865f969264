/**
 * Neptune's HTTPS query endpoint: an openCypher (`POST /openCypher`) or Gremlin (`POST /gremlin`) query
 * that returns one value (a count), signed with SigV4 (`neptune-db`) when the cluster requires IAM auth.
 * @see https://docs.aws.amazon.com/neptune/latest/userguide/access-graph-opencypher-queries.html
 * @see https://docs.aws.amazon.com/neptune/latest/userguide/access-graph-gremlin-rest.html
 * @see https://docs.aws.amazon.com/neptune/latest/userguide/iam-auth-connecting-http.html
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { SignatureV4 } from '@smithy/signature-v4';
import { rdsCaBundle } from '../../shared/sql/tls';

export interface GraphQuery {
  readonly language: 'opencypher' | 'gremlin';
  readonly text: string;
}

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface GraphQueryOptions {
  /** `https://host:8182` (or `http://…` for a local test server). */
  readonly endpoint: string;
  /** Sign with SigV4 for service `neptune-db` (clusters with IAM database authentication). */
  readonly iam?: { readonly region: string; readonly credentials: () => Promise<AwsCredentials> };
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): Buffer =>
  typeof d === 'string'
    ? Buffer.from(d, 'utf8')
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(new Uint8Array(d));

/** node:crypto as the SHA-256 SignatureV4 wants (a Checksum constructor; HMAC when given a secret). */
class NodeSha256 {
  readonly #secret?: Buffer;
  #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytes(secret);
    this.#hash = this.#secret ? createHmac('sha256', this.#secret) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#secret ? createHmac('sha256', this.#secret) : createHash('sha256');
  }
}

/** The path, content type and body of a query. */
export function queryRequest(q: GraphQuery): { path: string; contentType: string; body: string } {
  return q.language === 'opencypher'
    ? {
        path: '/openCypher',
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({ query: q.text }).toString(),
      }
    : { path: '/gremlin', contentType: 'application/json', body: JSON.stringify({ gremlin: q.text }) };
}

/** Unwraps GraphSON typed values (`{"@type":"g:Int64","@value":42}`). */
function unwrap(v: unknown): unknown {
  if (v && typeof v === 'object' && '@value' in v) return unwrap((v as { '@value': unknown })['@value']);
  return v;
}

/**
 * The single value a query returned: openCypher → the first column of the first row; Gremlin → the
 * first element of the result list. Throws when the answer has no value.
 */
export function resultValue(language: GraphQuery['language'], answer: unknown): unknown {
  if (language === 'opencypher') {
    const rows = (answer as { results?: unknown })?.results;
    if (!Array.isArray(rows)) throw new Error('openCypher answer has no results array');
    const first = rows[0];
    if (first === undefined) return null;
    if (!first || typeof first !== 'object') return first;
    const values = Object.values(first as Record<string, unknown>);
    if (values.length !== 1) throw new Error(`openCypher query must return one column, got ${values.length}`);
    return values[0];
  }
  const data = unwrap((answer as { result?: { data?: unknown } })?.result?.data);
  if (!Array.isArray(data)) throw new Error('Gremlin answer has no result list');
  return data.length ? unwrap(data[0]) : null;
}

/** Runs one query and returns its single value. HTTP errors carry Neptune's error code, never the query result. */
export async function runGraphQuery(q: GraphQuery, o: GraphQueryOptions): Promise<unknown> {
  const url = new URL(o.endpoint);
  const { path, contentType, body } = queryRequest(q);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  let headers: Record<string, string> = {
    host: url.port ? `${url.hostname}:${url.port}` : url.hostname,
    'content-type': contentType,
    accept: 'application/json',
  };
  if (o.iam) {
    const credentials = await o.iam.credentials();
    const signer = new SignatureV4({
      service: 'neptune-db',
      region: o.iam.region,
      credentials,
      sha256: NodeSha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port,
      path,
      headers,
      body,
      query: {},
    });
    headers = signed.headers as Record<string, string>;
  }
  const text = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        method: 'POST',
        hostname: url.hostname,
        port,
        path,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: o.timeoutMs,
        signal: o.signal,
        ...(url.protocol === 'https:'
          ? { ca: [...rootCertificates, ...rdsCaBundle()], servername: url.hostname }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
  let answer: unknown;
  try {
    answer = JSON.parse(text.body);
  } catch {
    throw new Error(`HTTP ${text.status}: the answer is not JSON`);
  }
  if (text.status < 200 || text.status >= 300) {
    const code = (answer as { code?: unknown })?.code;
    const detail = typeof code === 'string' ? code : `status ${text.status}`;
    throw new Error(`Neptune refused the query: HTTP ${text.status} (${detail})`);
  }
  return resultValue(q.language, answer);
}
