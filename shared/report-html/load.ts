/**
 * Where report data comes from: local evidence files (recursively under a directory, as written by
 * `writeEvidenceFile`, plus any coverage reports) or the stack's evidence store (the DynamoDB index —
 * no S3 object is read, so a year of evidence is a few queries).
 */
import { opendir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { EvidenceRecord } from '../evidence';
import { type CoverageReport, type EvidenceStore, type EvidenceSummary, summarize } from '../evidence-store';

export interface LoadedEvidence {
  readonly summaries: EvidenceSummary[];
  readonly coverage?: CoverageReport;
  /** Files that were JSON but neither evidence nor coverage, or unreadable: named, not fatal. */
  readonly skipped: { file: string; reason: string }[];
}

async function* walk(dir: string): AsyncGenerator<string> {
  const handle = await opendir(dir);
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && entry.name.endsWith('.json')) yield path;
  }
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
 * Reads every `*.json` under `dir` (in parallel batches); summaries carry the path relative to `dir`
 * as their location. The newest coverage report wins.
 */
export async function loadEvidenceDir(dir: string, concurrency = 64): Promise<LoadedEvidence> {
  const summaries: EvidenceSummary[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let coverage: CoverageReport | undefined;
  const read = async (file: string) => {
    const rel = relative(dir, file).split(sep).join('/');
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      if (isEvidence(parsed)) summaries.push(summarize(parsed, rel));
      else if (isCoverage(parsed)) {
        if (!coverage || coverage.generatedAt < parsed.generatedAt) coverage = parsed;
      } else skipped.push({ file: rel, reason: 'not an evidence record or coverage report' });
    } catch (err) {
      skipped.push({ file: rel, reason: (err as Error).message });
    }
  };
  let batch: Promise<void>[] = [];
  for await (const file of walk(dir)) {
    batch.push(read(file));
    if (batch.length >= concurrency) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  return { summaries, coverage, skipped };
}

/** Reads the index for a date range and the latest coverage report from the store. */
export async function loadEvidenceStore(
  store: EvidenceStore,
  range: { from: Date; to?: Date },
): Promise<LoadedEvidence> {
  const [summaries, coverage] = await Promise.all([store.queryByDate(range), store.latestCoverage()]);
  return { summaries, coverage, skipped: [] };
}
