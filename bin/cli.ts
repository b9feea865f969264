/**
 * `restore-validation <command>` (DESIGN.md, contract 3), shaped like aws-cli: `--profile` and
 * `--region` are the AWS profile and region on every command that calls AWS; the config file's
 * profile is `--config-profile`.
 * Exit codes: 0 SUCCESSFUL, 1 FAILED, 2 usage or configuration errors, 3 the tool itself failed
 * (no region, AWS unreachable, a crash) — so CI can tell a bad backup from a broken run.
 * `--json` prints exactly one JSON object: {"verdict","message","checks":[{id,status,detail,durationMs}]}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackupClient, DescribeRestoreJobCommand } from '@aws-sdk/client-backup';
import { Command, CommanderError, Option } from 'commander';
import { RESOURCE_TYPE_MODULES } from '../functions/types';
import type { CheckResult } from '../shared/checks';
import { createClients } from '../shared/clients';
import {
  type Config,
  configJsonSchema,
  emptyConfig,
  loadConfigFile,
  pickLocalProfile,
} from '../shared/config/index';
import { runtimeSettings } from '../shared/env';
import { ConfigError, reasonOf, UsageError } from '../shared/errors';
import { parseRestoreJobEvent } from '../shared/event';
import { writeEvidenceFile } from '../shared/evidence';
import { loadCheckExtensions, resolveCheckTarget } from '../shared/extend';
import { localRestoreJob } from '../shared/job';
import { processRestoreEvent } from '../shared/lifecycle';
import { parseInstantFlag } from '../shared/local';
import { logger } from '../shared/logger';
import { validatorTypeFor } from '../shared/resource-types';
import { runValidator, type ValidatorDefinition } from '../shared/validator';
import { finishValidation, type Verdict } from '../shared/verdict/index';
import '../shared/lambda-check';
import { loadTarget, TARGET_TYPES } from './targets';

export const EXIT = { ok: 0, failed: 1, usage: 2, tool: 3 } as const;

/** The tool could not do its job (no region, AWS unreachable): exit code 3, not a verdict. */
export class ToolError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ToolError';
  }
}

/**
 * This package's version: the nearest package.json named restore-validation above this module (bin/
 * in the repository, a chunk under lib/ in the installed package).
 */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'restore-validation' && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

/** aws-cli's meaning of `--profile` and `--region`: the SDK's credential chain and region read them. */
function useAwsOptions(opts: { profile?: unknown; region?: unknown }): void {
  if (typeof opts.profile === 'string') process.env.AWS_PROFILE = opts.profile;
  if (typeof opts.region === 'string') process.env.AWS_REGION = opts.region;
}

/** Adds aws-cli's `--profile` and `--region`, unless the command (a check target) has its own. */
function addAwsOptions(cmd: Command): Command {
  const has = (flag: string) => cmd.options.some((o) => o.long === flag);
  if (!has('--profile')) cmd.option('--profile <name>', 'AWS profile (from ~/.aws/config), as in aws-cli');
  if (!has('--region')) cmd.option('--region <region>', 'AWS region, as in aws-cli (default: AWS_REGION)');
  return cmd;
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
};

/** The one JSON object `--json` prints. */
export function verdictJson(
  verdict: Pick<Verdict, 'verdict' | 'message'>,
  checks: readonly CheckResult[],
): string {
  return JSON.stringify({
    verdict: verdict.verdict,
    message: verdict.message,
    checks: checks.map((c) => ({ id: c.id, status: c.status, detail: c.detail, durationMs: c.durationMs })),
  });
}

const STATUS_MARK: Record<string, string> = { pass: 'PASS ', fail: 'FAIL ', skip: 'SKIP ', error: 'ERROR' };

function printHuman(
  io: Io,
  title: string,
  verdict: Pick<Verdict, 'verdict' | 'message'>,
  checks: readonly CheckResult[],
) {
  io.out(`${title}\n`);
  const width = Math.max(8, ...checks.map((c) => c.id.length));
  for (const c of checks)
    io.out(
      `  ${STATUS_MARK[c.status] ?? c.status}  ${c.id.padEnd(width)}  ${c.detail}  (${c.durationMs} ms)\n`,
    );
  io.out(`\n${verdict.verdict}: ${verdict.message}\n`);
}

function readConfig(file: string | undefined): Config {
  return file ? loadConfigFile(file) : emptyConfig();
}

/** `report --from/--to`: an instant with its offset, or a date alone (midnight UTC). */
function parseRangeFlag(value: unknown, flag: string): Date | undefined {
  const text = typeof value === 'string' ? value.trim() : value;
  if (typeof text === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(text)) return new Date(`${text}T00:00:00Z`);
  return parseInstantFlag(value, flag);
}

async function runCheck(type: string, argv: string[], io: Io): Promise<number> {
  // --validator FILE runs a user's validator; --extension FILE (repeatable) adds check kinds first.
  const { target, argv: rest } = await resolveCheckTarget(type, argv, loadTarget);
  if (!target)
    throw new UsageError(
      `unknown check type ${JSON.stringify(type)}: use one of ${TARGET_TYPES.join(', ')}, or --validator FILE for your own (other types run through replay)`,
    );
  const cmd = new Command(`restore-validation check ${target.type}`)
    .description(target.summary)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .option('--config <file>', 'config file (YAML or JSON)', 'validation.config.yaml')
    .option(
      '--config-profile <name>',
      'config profile to run (default: the only profile for the resource type; required when there are several)',
    )
    .option('--json', 'print exactly one JSON object')
    .option('--evidence <dir>', 'write the evidence record of the run as JSON under DIR')
    .option('--timeout <seconds>', 'overall deadline for the checks', '900')
    .option('--validator <file>', "run your own validator module's checks (docs/extending.md)")
    .option('--extension <file>', 'load a module that registers check kinds (repeatable)');
  for (const o of target.options) {
    const opt = new Option(o.flags, o.description);
    if (o.choices) opt.choices(o.choices as string[]);
    if (o.defaultValue !== undefined) opt.default(o.defaultValue);
    if (o.required) opt.makeOptionMandatory(true);
    cmd.addOption(opt);
  }
  addAwsOptions(cmd);
  cmd.parse(rest, { from: 'user' });
  const opts = cmd.opts<Record<string, unknown>>();
  useAwsOptions(opts);
  const configFile = String(opts.config);
  const config = readConfig(configFile);
  const { profile, note } = pickLocalProfile(config, {
    resourceType: target.resourceType,
    profileName: typeof opts.configProfile === 'string' ? opts.configProfile : undefined,
    configFile,
  });
  // stderr, so that --json keeps exactly one object on stdout.
  if (note) io.err(`note: ${note}\n`);
  const recoveryPoint = parseInstantFlag(opts.recoveryPointTime, '--recovery-point-time');
  const job = localRestoreJob({
    resourceType: target.resourceType,
    recoveryPointCreationDate: recoveryPoint,
    sourceResourceArn: target.sourceResourceArn?.(opts),
  });
  const timeoutSeconds = Number(opts.timeout);
  if (!(timeoutSeconds > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, got ${String(opts.timeout)}`);
  // A target that calls AWS (it takes --region: s3, dynamodb) needs a region, as aws-cli does: without
  // one the tool failed (exit 3); it is not a FAILED backup. The SDK's chain also reads ~/.aws/config.
  const region =
    (opts.region as string | undefined) ??
    runtimeSettings().region ??
    (await new BackupClient({}).config.region().catch(() => undefined));
  if (!region && target.options.some((o) => o.flags.startsWith('--region ')))
    throw new ToolError(
      `no AWS region: pass --region REGION or set AWS_REGION (check ${target.type} calls AWS)`,
    );
  const clients = createClients({
    region: region ?? 'us-east-1',
    endpoint: opts.endpointUrl as string | undefined,
  });
  try {
    const run = await runValidator(
      target.validator,
      {
        job,
        profile,
        config,
        logger,
        clients,
        deadline: Date.now() + timeoutSeconds * 1000,
        mode: 'local',
        target: opts,
        // No settings: a local run has no function environment, the validator's defaults apply.
      },
      {
        onResult: (r) => {
          if (!opts.json && io.isTTY) io.err(`  ${STATUS_MARK[r.status] ?? r.status}  ${r.id}\n`);
        },
      },
    );
    if (typeof opts.evidence === 'string') {
      // A local run has no restore job to post to: the tail only writes the record (mode local).
      const dir = opts.evidence;
      let file = '';
      await finishValidation(
        {
          restoreJobId: job.restoreJobId,
          dryRun: true,
          evidence: { kind: 'run', job, run, validator: target.validator.name, profile: profile?.name },
        },
        {
          clients,
          settings: runtimeSettings(),
          sinks: [
            async (record) => {
              file = writeEvidenceFile(dir, record);
            },
          ],
          sinkErrors: 'throw',
        },
      );
      if (!opts.json) io.err(`evidence written to ${file}\n`);
    }
    if (opts.json) io.out(`${verdictJson(run.verdict, run.results)}\n`);
    else
      printHuman(
        io,
        `restore-validation check ${target.type}${profile ? ` (profile ${profile.name})` : ''}`,
        run.verdict,
        run.results,
      );
    return run.verdict.verdict === 'SUCCESSFUL' ? EXIT.ok : EXIT.failed;
  } finally {
    await target.release?.(opts);
  }
}

/** Loads functions/<type>/validator.ts and returns the validator it exports. */
export async function loadValidator(resourceType: string): Promise<ValidatorDefinition<unknown>> {
  const type = validatorTypeFor(resourceType);
  if (!type)
    throw new UsageError(
      `unknown resource type ${JSON.stringify(resourceType)}: restore-validation has no validator for it`,
    );
  return RESOURCE_TYPE_MODULES[type].validator();
}

interface ReplayOptions {
  event?: string;
  restoreJobId?: string;
  dryRun?: boolean;
  config?: string;
  json?: boolean;
  evidence?: string;
  region?: string;
}

/**
 * The event `replay --restore-job-id` runs: built from DescribeRestoreJob, as EventBridge would have
 * sent it for the job's COMPLETED state change.
 */
async function eventForJob(backup: BackupClient, restoreJobId: string, region: string): Promise<unknown> {
  const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }));
  const iso = (d: Date | undefined) => d?.toISOString();
  return {
    source: 'aws.backup',
    'detail-type': 'Restore Job State Change',
    account: job.AccountId,
    region,
    detail: {
      restoreJobId,
      resourceType: job.ResourceType ?? '',
      status: job.Status ?? '',
      recoveryPointArn: job.RecoveryPointArn,
      sourceResourceArn: job.SourceResourceArn,
      createdResourceArn: job.CreatedResourceArn,
      iamRoleArn: job.IamRoleArn,
      restoreTestingPlanArn: job.CreatedBy?.RestoreTestingPlanArn,
      creationDate: iso(job.CreationDate),
      completionDate: iso(job.CompletionDate),
    },
  };
}

async function runReplay(opts: ReplayOptions, io: Io): Promise<number> {
  if (Boolean(opts.event) === Boolean(opts.restoreJobId))
    throw new UsageError('replay needs exactly one of --event FILE and --restore-job-id ID');
  const settings = runtimeSettings();
  let raw: unknown;
  let region: string | undefined;
  if (opts.event) {
    try {
      raw = JSON.parse(readFileSync(opts.event, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read event file ${opts.event}: ${reasonOf(err)}`);
    }
    // The job lives where the event came from: its region wins over the shell's.
    const eventRegion = (raw as { region?: unknown } | null)?.region;
    region = typeof eventRegion === 'string' && eventRegion ? eventRegion : settings.region;
    if (opts.region && region && opts.region !== region)
      throw new UsageError(
        `--region ${opts.region} contradicts the event's region ${region}: drop --region (the event names the job's region)`,
      );
  } else region = opts.region ?? settings.region;
  if (!region)
    throw new ToolError(
      'no AWS region: pass --region REGION or set AWS_REGION (the event names none either)',
    );
  const clients = createClients({ region });
  if (opts.restoreJobId) {
    try {
      raw = await eventForJob(clients.backup, opts.restoreJobId, region);
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException')
        throw new UsageError(`no restore job ${opts.restoreJobId} in ${region}: ${reasonOf(err)}`);
      throw new ToolError(`cannot describe restore job ${opts.restoreJobId}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
  }
  const event = parseRestoreJobEvent(raw);
  const validator = await loadValidator(event.detail.resourceType);
  const config = opts.config ? loadConfigFile(opts.config) : undefined;
  const outcome = await processRestoreEvent(
    raw,
    { getRemainingTimeInMillis: () => 15 * 60_000 },
    {
      validator,
      config,
      dryRun: Boolean(opts.dryRun),
      persistenceStore: false,
      sinks: opts.evidence ? [async (record) => void writeEvidenceFile(opts.evidence as string, record)] : [],
      settings: { ...settings, region },
      clients,
    },
  );
  if (!outcome.verdict || !outcome.evidence) {
    io.err(`replay: ${outcome.outcome}: ${outcome.message}\n`);
    return EXIT.usage;
  }
  const checks = outcome.evidence.checks;
  const verdict = { verdict: outcome.verdict, message: outcome.message };
  if (opts.json) io.out(`${verdictJson(verdict, checks)}\n`);
  else
    printHuman(
      io,
      `restore-validation replay ${outcome.restoreJobId} (${outcome.outcome}${opts.dryRun ? ', nothing posted' : ''})`,
      verdict,
      checks,
    );
  return outcome.verdict === 'SUCCESSFUL' ? EXIT.ok : EXIT.failed;
}

/** `check --help`: the types and the options every type takes (each type's own: `check <type> --help`). */
function checkHelp(): string {
  return `Usage: restore-validation check <type> [options]

Runs a config profile's checks against a reachable resource, no AWS Backup involved.

Types: ${TARGET_TYPES.join(', ')} (or --validator FILE for your own); "check <type> --help" lists the
target flags of a type.

Options of every type:
  --config <file>            config file (YAML or JSON) (default: "validation.config.yaml")
  --config-profile <name>    config profile to run (default: the first that matches the target)
  --json                     print exactly one JSON object
  --evidence <dir>           write the evidence record of the run as JSON under DIR
  --timeout <seconds>        overall deadline for the checks (default: "900")
  --validator <file>         run your own validator module's checks (docs/extending.md)
  --extension <file>         load a module that registers check kinds (repeatable)
  --profile <name>           AWS profile (from ~/.aws/config), as in aws-cli
  --region <region>          AWS region, as in aws-cli (default: AWS_REGION)

Exit codes: 0 SUCCESSFUL, 1 FAILED, 2 usage or config error, 3 the tool itself failed.
`;
}

function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('restore-validation')
    .description('Proves AWS Backup restores work: runs validation checks against restored resources.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .version(packageVersion(), '--version', 'print the version')
    .showHelpAfterError();

  program
    .command('check')
    .description(
      `run a profile's checks against a reachable resource (types: ${TARGET_TYPES.join(', ')}); see "check <type> --help"`,
    )
    .argument('<type>', 'resource type')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(async (type: string, _o: unknown, cmd: Command) => {
      if (type === '--help' || type === '-h' || type === 'help') {
        io.out(checkHelp());
        setCode(EXIT.ok);
        return;
      }
      setCode(await runCheck(type, cmd.args.slice(1), io));
    });

  addAwsOptions(
    program
      .command('replay')
      .description('run the whole lifecycle for a real restore job in the account of the current credentials')
      .option('--event <file>', "a Restore Job State Change event (JSON); its region is the job's")
      .option('--restore-job-id <id>', 'a restore job of the account (instead of --event)')
      .option('--dry-run', 'decide the verdict but report nothing to AWS Backup')
      .option('--config <file>', 'config file (default: none, built-in checks only)')
      .option('--json', 'print exactly one JSON object')
      .option('--evidence <dir>', 'write the evidence record as JSON under DIR'),
  ).action(async (opts) => {
    // The region flag is compared with the event's, not exported over it.
    useAwsOptions({ profile: opts.profile });
    setCode(await runReplay(opts, io));
  });

  addAwsOptions(
    program
      .command('report')
      .description('render the HTML evidence report from local evidence files or the deployed evidence store')
      .option('--evidence <dir>', 'local evidence directory (default: the deployed stack’s evidence store)')
      .option(
        '--stack-name <name>',
        'the deployed stack whose evidence store to read (default: RESTORE_VALIDATION_STACK, else RestoreValidation)',
      )
      .option('--from <time>', 'first day or time to include, ISO 8601 (default: 365 days ago)')
      .option('--to <time>', 'include validations before this day or time, ISO 8601 (default: now)')
      .option('--out <file>', 'output file', 'restore-validation-report.html')
      .addOption(
        new Option(
          '--format <format>',
          'output format (default: from the --out extension, else html)',
        ).choices(['html', 'csv', 'json']),
      ),
  ).action(async (opts) => {
    useAwsOptions(opts);
    const { runReport } = await import('./report/index');
    setCode(
      await runReport(
        { ...opts, from: parseRangeFlag(opts.from, '--from'), to: parseRangeFlag(opts.to, '--to') },
        { stdout: (l) => io.out(`${l}\n`), stderr: (l) => io.err(`${l}\n`) },
      ),
    );
  });

  program
    .command('validate-config')
    .description('validate a config file; errors name the file, the path inside it and the fix')
    .argument('<file>', 'config file')
    .option('--extension <file>', 'load a module that registers check kinds first (repeatable)', collect, [])
    .action(async (file: string, opts: { extension: string[] }) => {
      await loadCheckExtensions(opts.extension);
      const config = loadConfigFile(file);
      const checks = config.profiles.reduce((n, p) => n + p.checks.length, 0);
      io.out(
        `${file}: valid (${config.profiles.length} profile${config.profiles.length === 1 ? '' : 's'}, ${checks} check${checks === 1 ? '' : 's'})\n`,
      );
      setCode(EXIT.ok);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the config file (for editor completion)')
    .action(() => {
      io.out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      setCode(EXIT.ok);
    });

  // Restore testing as code (docs/restore-testing.md): each parses its own flags.
  type SubCommand = { run: (argv: string[], io: Io) => Promise<number> };
  const restoreTesting: Array<[string, string, () => Promise<SubCommand>]> = [
    [
      'doctor',
      'say per restore testing selection and resource whether the validators can do their job',
      () => import('./doctor'),
    ],
    [
      'run-test',
      'start a restore test now for one selection and resource, then validate it',
      () => import('./run-test'),
    ],
  ];
  for (const [name, description, load] of restoreTesting) {
    program
      .command(name)
      .description(description)
      .allowUnknownOption()
      .allowExcessArguments()
      .helpOption(false)
      .action(async (_o: unknown, cmd: Command) => {
        setCode(await (await load()).run(cmd.args, io));
      });
  }

  program
    .command('demo')
    .description('run two simulated restore tests against an embedded PostgreSQL: one good, one damaged')
    .option('--out <dir>', 'where evidence and the report go', resolve('restore-validation-demo'))
    .option('--json', 'print the demo results as JSON')
    .action(async (opts) => {
      const { runDemo } = (await import('./demo')) as {
        runDemo: (o: { outDir?: string; json?: boolean }) => Promise<number>;
      };
      setCode(await runDemo({ outDir: opts.out, json: opts.json }));
    });
  return program;
}

/** Runs the CLI; resolves with the exit code. Never throws. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  // --profile/--region set the SDK's environment for this run only (main also runs in-process).
  const awsEnv = { AWS_PROFILE: process.env.AWS_PROFILE, AWS_REGION: process.env.AWS_REGION };
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      io.err(`restore-validation: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof Error && err.name === 'EventParseError') {
      io.err(`restore-validation: ${err.message}\n`);
      return EXIT.usage;
    }
    // Not a verdict: the tool itself failed (no region, AWS unreachable, a bug).
    io.err(`restore-validation: ${reasonOf(err)}\n`);
    return EXIT.tool;
  } finally {
    for (const [k, v] of Object.entries(awsEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// `npx tsx bin/cli.ts …` runs the CLI as well (bin/restore-validation.js and the package import it instead).
// Not a top-level await: doctor and run-test import this module, which must finish loading first.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
