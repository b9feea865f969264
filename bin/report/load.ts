/**
 * Where report data comes from: local evidence files (recursively under a directory, as written by
 * `writeEvidenceFile`, plus any coverage reports) or the stack's evidence store (the DynamoDB index —
 * no S3 object is read, so a year of evidence is a few queries).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { EvidenceRecord } from '../../shared/evidence';
import {
  type CheckOutcome,
  type CoverageReport,
  type EvidenceStore,
  type EvidenceSummary,
  sha256Hex,
  summarize,
} from '../../shared/evidence-store';

export interface LoadedEvidence {
  readonly summaries: EvidenceSummary[];
  readonly coverage?: CoverageReport;
  /** Files that were JSON but neither evidence nor coverage, or unreadable: named, not fatal. */
  readonly skipped: { file: string; reason: string }[];
}

const isEvidence = (v: unknown): v is EvidenceRecord =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as EvidenceRecord).restoreJobId === 'string' &&
  typeof (v as EvidenceRecord).verdict === 'string' &&
  typeof (v as EvidenceRecord).validationFinishedAt === 'string' &&
  Array.isArray((v as EvidenceRecord).checks);
const isCoverage = (v: unknown): v is CoverageReport =>
  !!v &&
  typeof v === 'object' &&
  Array.isArray((v as CoverageReport).untested) &&
  typeof (v as CoverageReport).generatedAt === 'string';

/**
 * Reads every `*.json` under `dir`; summaries carry the path relative to `dir` as their location.
 * The newest coverage report wins. Synchronous reads on purpose: for many small files they are
 * about three times faster than the promise API (no thread-pool round trip per file), and the CLI
 * has nothing else to do meanwhile.
 */
export async function loadEvidenceDir(dir: string): Promise<LoadedEvidence> {
  const summaries: EvidenceSummary[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let coverage: CoverageReport | undefined;
  const intern = interner();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const file = join(entry.parentPath, entry.name);
    const rel = relative(dir, file).split(sep).join('/');
    try {
      const bytes = readFileSync(file);
      const parsed: unknown = JSON.parse(bytes.toString('utf8'));
      if (isEvidence(parsed)) summaries.push(intern(summarize(parsed, rel, sha256Hex(bytes))));
      else if (isCoverage(parsed)) {
        if (!coverage || coverage.generatedAt < parsed.generatedAt) coverage = parsed;
      } else skipped.push({ file: rel, reason: 'not an evidence record or coverage report' });
    } catch (err) {
      skipped.push({ file: rel, reason: (err as Error).message });
    }
  }
  return { summaries, coverage, skipped };
}

const REPEATED = [
  'resourceType',
  'sourceResourceArn',
  'restoreTestingPlanArn',
  'restoreTestingPlanName',
  'accountId',
  'region',
  'mode',
  'codeVersion',
  'message',
] as const;

/**
 * Shares one copy of the strings that repeat across records (resource ARNs, plans, messages):
 * JSON.parse makes a fresh copy per file, which at 100,000 records is tens of MB.
 */
function interner(): (s: EvidenceSummary) => EvidenceSummary {
  const pool = new Map<string, string>();
  const one = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined;
    const hit = pool.get(v);
    if (hit !== undefined) return hit;
    pool.set(v, v);
    return v;
  };
  const checks = new Map<string, CheckOutcome>();
  const lists = new Map<string, readonly CheckOutcome[]>();
  const oneCheck = (c: CheckOutcome): CheckOutcome => {
    const key = `${c.id}\u0000${c.status}\u0000${c.detail}`;
    let hit = checks.get(key);
    if (!hit) {
      hit = Object.freeze({ id: one(c.id) ?? c.id, status: c.status, detail: c.detail });
      checks.set(key, hit);
    }
    return hit;
  };
  const oneList = (list: readonly CheckOutcome[]): readonly CheckOutcome[] => {
    const shared = list.map(oneCheck);
    const key = shared.map((c) => `${c.id}\u0000${c.status}\u0000${c.detail}`).join('\u0001');
    let hit = lists.get(key);
    if (!hit) {
      hit = Object.freeze(shared);
      lists.set(key, hit);
    }
    return hit;
  };
  return (s) => {
    const out: Record<string, unknown> = { ...s };
    for (const k of REPEATED) if (typeof out[k] === 'string') out[k] = one(out[k] as string);
    if (s.failedChecks.length > 0) out.failedChecks = s.failedChecks.map((c) => one(c) ?? c);
    else out.failedChecks = NO_CHECKS;
    // Checks repeat across records ("reachable pass: connected"), often as whole lists: one copy each.
    if (s.checks) out.checks = oneList(s.checks);
    return out as unknown as EvidenceSummary;
  };
}
const NO_CHECKS: readonly string[] = Object.freeze([]);

/**
 * Reads the index for a date range and the latest coverage report from the store — of every member
 * account and region too, when the bucket is a central evidence account's.
 */
export async function loadEvidenceStore(
  store: EvidenceStore,
  range: { from: Date; to?: Date },
): Promise<LoadedEvidence> {
  const [summaries, coverage] = await Promise.all([store.queryByDate(range), store.organizationCoverage()]);
  return { summaries, coverage, skipped: [] };
}
