/**
 * `restore-validation <command>` (DESIGN.md, contract 3).
 * Exit codes: 0 SUCCESSFUL, 1 FAILED, 2 usage or configuration errors (message on stderr).
 * `--json` prints exactly one JSON object: {"verdict","message","checks":[{id,status,detail,durationMs}]}.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { CheckResult } from '../shared/checks';
import { createClients } from '../shared/clients';
import {
  type Config,
  configJsonSchema,
  emptyConfig,
  loadConfigFile,
  matchProfile,
  profileByName,
} from '../shared/config/index';
import { runtimeSettings } from '../shared/env';
import { ConfigError, reasonOf, UsageError } from '../shared/errors';
import { parseRestoreJobEvent } from '../shared/event';
import { buildEvidence, writeEvidenceFile } from '../shared/evidence';
import { loadCheckExtensions, resolveCheckTarget } from '../shared/extend';
import { localRestoreJob } from '../shared/job';
import { processRestoreEvent } from '../shared/lifecycle';
import { logger } from '../shared/logger';
import { validatorTypeFor } from '../shared/resource-types';
import { runValidator, type ValidatorDefinition } from '../shared/validator';
import type { Verdict } from '../shared/verdict';
import '../shared/lambda-check';
import { loadTarget, TARGET_TYPES } from './targets';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

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

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not an ISO 8601 time (e.g. 2026-11-24T22:00:00Z)`,
    );
  return d;
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
    .option('--profile <name>', 'profile to run (default: the first profile that matches the target)')
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
  cmd.parse(rest, { from: 'user' });
  const opts = cmd.opts<Record<string, unknown>>();
  const configFile = String(opts.config);
  const config = readConfig(configFile);
  let profile = undefined as ReturnType<typeof profileByName>;
  if (typeof opts.profile === 'string') {
    profile = profileByName(config, opts.profile);
    if (!profile) {
      throw new UsageError(
        `no profile named ${JSON.stringify(opts.profile)} in ${configFile}; profiles: ${config.profiles.map((p) => p.name).join(', ') || '(none)'}`,
      );
    }
  } else {
    profile = matchProfile(config, {
      resourceType: target.resourceType,
      sourceResourceArn: target.sourceResourceArn?.(opts),
    });
    if (!profile && !opts.json)
      io.err(
        `note: no profile in ${configFile} matches resource type ${target.resourceType}; only built-in checks run (use --profile NAME)\n`,
      );
  }
  const recoveryPoint = parseTime(opts.recoveryPointTime as string | undefined, '--recovery-point-time');
  const job = localRestoreJob({
    resourceType: target.resourceType,
    recoveryPointCreationDate: recoveryPoint,
    sourceResourceArn: target.sourceResourceArn?.(opts),
  });
  const timeoutSeconds = Number(opts.timeout);
  if (!(timeoutSeconds > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, got ${String(opts.timeout)}`);
  const clients = createClients({
    region: (opts.region as string | undefined) ?? runtimeSettings().region ?? 'us-east-1',
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
        settings: {},
      },
      {
        onResult: (r) => {
          if (!opts.json && io.isTTY) io.err(`  ${STATUS_MARK[r.status] ?? r.status}  ${r.id}\n`);
        },
      },
    );
    if (typeof opts.evidence === 'string') {
      const record = buildEvidence({
        job,
        run,
        validator: target.validator.name,
        profile: profile?.name,
        reported: false,
        mode: 'local',
        codeVersion: runtimeSettings().codeVersion,
      });
      const file = writeEvidenceFile(opts.evidence, record);
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
  const mod = (await import(`../functions/${type}/validator.ts`)) as Record<string, unknown>;
  const found = Object.values(mod).find(
    (v): v is ValidatorDefinition<unknown> =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as ValidatorDefinition).gather === 'function' &&
      typeof (v as ValidatorDefinition).checks === 'function',
  );
  if (!found) throw new Error(`functions/${type}/validator.ts exports no validator`);
  return found;
}

async function runReplay(
  opts: { event: string; dryRun?: boolean; config?: string; json?: boolean; evidence?: string },
  io: Io,
): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(opts.event, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read event file ${opts.event}: ${reasonOf(err)}`);
  }
  const event = parseRestoreJobEvent(raw);
  const validator = await loadValidator(event.detail.resourceType);
  const config = opts.config ? loadConfigFile(opts.config) : undefined;
  const settings = runtimeSettings();
  const outcome = await processRestoreEvent(
    raw,
    { getRemainingTimeInMillis: () => 15 * 60_000 },
    {
      validator,
      config,
      dryRun: Boolean(opts.dryRun),
      persistenceStore: false,
      sinks: opts.evidence ? [async (record) => void writeEvidenceFile(opts.evidence as string, record)] : [],
      settings,
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

function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('restore-validation')
    .description('Proves AWS Backup restores work: runs validation checks against restored resources.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
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
      setCode(await runCheck(type, cmd.args.slice(1), io));
    });

  program
    .command('replay')
    .description('run the whole lifecycle for a real restore job in the account of the current credentials')
    .requiredOption('--event <file>', 'a Restore Job State Change event (JSON)')
    .option('--dry-run', 'decide the verdict but report nothing to AWS Backup')
    .option('--config <file>', 'config file (default: none, built-in checks only)')
    .option('--json', 'print exactly one JSON object')
    .option('--evidence <dir>', 'write the evidence record as JSON under DIR')
    .action(async (opts) => setCode(await runReplay(opts, io)));

  program
    .command('report')
    .description('render the HTML evidence report from local evidence files or the deployed evidence store')
    .option('--evidence <dir>', 'local evidence directory (default: the deployed stack’s evidence store)')
    .option('--out <file>', 'output file', 'restore-validation-report.html')
    .addOption(
      new Option('--format <format>', 'output format (default: from the --out extension, else html)').choices(
        ['html', 'csv', 'json'],
      ),
    )
    .action(async (opts) => {
      const { runReport } = (await import('./report')) as {
        runReport: (o: Record<string, unknown>) => Promise<number>;
      };
      setCode(await runReport(opts));
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
    io.err(`restore-validation: ${reasonOf(err)}\n`);
    return EXIT.failed;
  }
}
