/**
 * `restore-validation report [--evidence DIR | --stack-name NAME] [--from T] [--to T] [--out FILE]
 * [--format html|csv|json]`: the evidence report. With `--evidence`, from local evidence files;
 * otherwise from the deployed stack's evidence store (EVIDENCE_BUCKET/EVIDENCE_TABLE, or the outputs
 * of the CloudFormation stack named by `--stack-name`, else RESTORE_VALIDATION_STACK, else
 * `RestoreValidation`), covering `--from`–`--to` (default: the last REPORT_DAYS, 365, days).
 */

import { once } from 'node:events';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { dirname, extname, relative, resolve, sep } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { createClients, sdkClientConfig } from '../../shared/clients';
import { defineSettings, runtimeSettings, setting } from '../../shared/env';
import { reasonOf } from '../../shared/errors';
import { EvidenceStore, type EvidenceSummary } from '../../shared/evidence-store';
import { type LoadedEvidence, loadEvidenceDir, loadEvidenceStore } from './load';
import { buildReportModel } from './model';
import { type RenderOptions, renderCsv, renderHtml, renderJson } from './render';

/** The report's own settings, beside the stack's (evidence store, region). */
const reportSettings = defineSettings({
  /** The stack whose evidence store is read when neither --evidence nor --stack-name is given. */
  stackName: setting.text('RESTORE_VALIDATION_STACK', 'RestoreValidation'),
  /** Days covered without --from. */
  days: setting.number('REPORT_DAYS', 365, { exclusive: true }),
});

export interface ReportOptions {
  evidence?: string;
  out?: string;
  format?: 'html' | 'csv' | 'json';
  stackName?: string;
  from?: Date;
  to?: Date;
}

export interface ReportIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

const defaultIo: ReportIo = {
  stdout: (l) => process.stdout.write(`${l}\n`),
  stderr: (l) => process.stderr.write(`${l}\n`),
};

/** Output path and format: the format follows --format, else the extension of --out. */
export function resolveOutput(opts: ReportOptions): { out: string; format: 'html' | 'csv' | 'json' } {
  const ext = extname(opts.out ?? '')
    .slice(1)
    .toLowerCase();
  // The CLI frame defaults --format to html, so an explicit `.csv`/`.json` file name wins over `html`.
  const byExt = ext === 'csv' || ext === 'json' ? ext : undefined;
  const format = opts.format && opts.format !== 'html' ? opts.format : (byExt ?? 'html');
  let out = opts.out ?? `restore-validation-report.${format}`;
  // `--format csv` with the CLI's default `.html` name: keep the name, fix the extension.
  if (format !== 'html' && extname(out).toLowerCase() === '.html') out = `${out.slice(0, -5)}.${format}`;
  return { out: resolve(out), format };
}

/** Where the report looked for the deployed stack's evidence store, for the message when it fails. */
function storeHint(stackName: string, region: string | undefined): string {
  return `tried the deployed stack ${stackName} in ${region ?? '(no region: set AWS_REGION or --region)'}; pass --evidence DIR for local evidence files, --stack-name NAME (and --region, --profile) for another stack, or set EVIDENCE_BUCKET and EVIDENCE_TABLE`;
}

async function storeFromStack(stackOption: string | undefined): Promise<EvidenceStore> {
  const settings = runtimeSettings();
  const c = createClients({ region: settings.region });
  let bucket = settings.evidenceBucket;
  let table = settings.evidenceTable;
  const stackName = stackOption ?? reportSettings().stackName;
  if (!bucket || !table) {
    let outputs: { OutputKey?: string; OutputValue?: string }[];
    try {
      const cfn = new CloudFormationClient(sdkClientConfig({ region: settings.region }));
      const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      outputs = Stacks?.[0]?.Outputs ?? [];
    } catch (err) {
      throw new Error(`${reasonOf(err)}: ${storeHint(stackName, settings.region)}`, { cause: err });
    }
    bucket ??= outputs.find((o) => o.OutputKey?.includes('EvidenceBucketName'))?.OutputValue;
    table ??= outputs.find((o) => o.OutputKey?.includes('EvidenceTableName'))?.OutputValue;
    if (!bucket || !table) {
      throw new Error(
        `stack ${stackName} has no EvidenceBucketName/EvidenceTableName outputs (deploy it with the operations construct): ${storeHint(stackName, settings.region)}`,
      );
    }
  }
  return new EvidenceStore({
    s3: c.s3,
    dynamodb: c.dynamodb,
    bucket,
    table,
    prefix: settings.evidencePrefix,
  });
}

/** Keeps the validations that finished in [from, to). */
function inRange(loaded: LoadedEvidence, from?: Date, to?: Date): LoadedEvidence {
  if (!from && !to) return loaded;
  const lo = from?.toISOString() ?? '';
  const hi = to?.toISOString();
  return {
    ...loaded,
    summaries: loaded.summaries.filter((v) => v.finishedAt >= lo && (hi === undefined || v.finishedAt < hi)),
  };
}

/** Streams a generator's chunks to a file, honouring back-pressure. */
async function writeChunks(file: string, chunks: Iterable<string>): Promise<void> {
  const stream = createWriteStream(file, { encoding: 'utf8' });
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/**
 * Builds the report; returns the exit code (0 written, 2 usage or unreadable local evidence, 3 the
 * deployed evidence store could not be read).
 * `deps.store` replaces the stack look-up (tests, or a caller with its own clients).
 */
export async function runReport(
  opts: ReportOptions,
  io: ReportIo = defaultIo,
  deps: { store?: EvidenceStore; region?: string } = {},
): Promise<number> {
  const { out, format } = resolveOutput(opts);
  if (!existsSync(dirname(out))) {
    io.stderr(`report: the output directory ${dirname(out)} does not exist`);
    return 2;
  }
  let loaded: LoadedEvidence;
  let linkOf: RenderOptions['linkOf'];
  let source: string;
  try {
    if (opts.evidence) {
      const dir = resolve(opts.evidence);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        io.stderr(`report: --evidence ${opts.evidence} is not a directory`);
        return 2;
      }
      loaded = inRange(await loadEvidenceDir(dir), opts.from, opts.to);
      const base = relative(dirname(out), dir).split(sep).join('/');
      linkOf = (v: Pick<EvidenceSummary, 'location'>) =>
        encodeURI(base ? `${base}/${v.location}` : v.location);
      source = `evidence files in ${dir}`;
    } else {
      const store = deps.store ?? (await storeFromStack(opts.stackName));
      const { days } = reportSettings();
      loaded = await loadEvidenceStore(store, {
        from: opts.from ?? new Date((opts.to?.getTime() ?? Date.now()) - days * 86_400_000),
        to: opts.to,
      });
      const region = deps.region ?? runtimeSettings().region ?? 'us-east-1';
      linkOf = (v: Pick<EvidenceSummary, 'location'>) =>
        `https://${region}.console.aws.amazon.com/s3/object/${encodeURIComponent(store.bucket)}?prefix=${encodeURIComponent(v.location)}`;
      source = `evidence store s3://${store.bucket}`;
    }
  } catch (err) {
    io.stderr(`report: cannot read the evidence: ${reasonOf(err)}`);
    // A local directory that cannot be read is the caller's to fix; an unreachable store is the tool's.
    return opts.evidence ? 2 : 3;
  }
  for (const s of loaded.skipped.slice(0, 20)) io.stderr(`report: skipped ${s.file}: ${s.reason}`);
  if (loaded.skipped.length > 20) io.stderr(`report: skipped ${loaded.skipped.length - 20} more files`);

  const model = buildReportModel({ summaries: loaded.summaries, coverage: loaded.coverage, source });
  const render = format === 'csv' ? renderCsv : format === 'json' ? renderJson : renderHtml;
  try {
    await writeChunks(out, render(model, { linkOf }));
  } catch (err) {
    io.stderr(`report: cannot write ${out}: ${reasonOf(err)}`);
    return 2;
  }
  const s = model.summary;
  const untested = s.untested === null ? 'unknown (no coverage report)' : String(s.untested);
  io.stdout(
    `report: ${s.validations} validations, ${s.failed} failed, ${s.timedOut} timed out, ${s.objectivesMissed} missed an objective, resources never tested: ${untested} (from ${source}) → ${out}`,
  );
  return 0;
}
