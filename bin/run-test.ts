/**
 * `restore-validation run-test`: start a restore test now for one selection and resource, wait for
 * the restore with a progress display, validate it with the same lifecycle the Lambdas run, and print
 * the verdict (docs/restore-testing.md).
 *
 * A job started with StartRestoreJob is not a restore test: it has no `CreatedBy.RestoreTestingPlanArn`,
 * AWS Backup does not delete what it restored, and whether PutRestoreValidationResult accepts a
 * verdict for it is not stated in the API reference (which describes the call as sending "self-run
 * restore test validation results"). So run-test first posts VALIDATING: if AWS Backup accepts it the
 * verdict is posted as usual; if it refuses, the validation still runs and the verdict goes to the
 * evidence only, and run-test says so.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutRestoreValidationResult.html
 */
import { randomUUID } from 'node:crypto';
import {
  DescribeRestoreJobCommand,
  type DescribeRestoreJobCommandOutput,
  PutRestoreValidationResultCommand,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import { TagResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { Command, Option } from 'commander';
import { createClients } from '../shared/clients';
import { type Config, loadConfigFile } from '../shared/config/index';
import type { StackFacts } from '../shared/config/restore-testing';
import { runtimeSettings } from '../shared/env';
import { reasonOf, UsageError } from '../shared/errors';
import { writeEvidenceFile } from '../shared/evidence';
import { RESTORE_TEST_PREFIX, RESTORE_TEST_TAG } from '../shared/guard';
import { processRestoreEvent } from '../shared/lifecycle';
import { loadValidator, verdictJson } from './cli';
import {
  type RestoreTestingClients,
  requireRegion,
  resolveSelections,
  restoreTestingClients,
} from './doctor';
import {
  latestRecoveryPoint,
  resolveStackFacts,
  resourcesOf,
  restoreMetadata,
  stackOptions,
} from './restore-testing-account';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY?: boolean;
}

/** Metadata keys that name the restored resource, per type: run-test names it like a restore test. */
const NAME_KEYS: Readonly<Record<string, string>> = {
  RDS: 'dbInstanceIdentifier',
  Aurora: 'dbClusterIdentifier',
  DocumentDB: 'dbClusterIdentifier',
  Neptune: 'dbClusterIdentifier',
  DynamoDB: 'targetTableName',
};

const FINAL_JOB_STATUSES = new Set(['COMPLETED', 'FAILED', 'ABORTED']);

export interface RunTestOptions {
  readonly config: Config;
  readonly plan: string;
  readonly selection: string;
  readonly resource?: string;
  readonly fromAccount?: boolean;
  readonly facts: StackFacts;
  readonly clients: RestoreTestingClients;
  readonly wait: boolean;
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly evidenceDir?: string;
  readonly io: Io;
  readonly json: boolean;
  /** AWS named profile and region, for the validator's own clients. */
  readonly aws?: { readonly profile?: string; readonly region?: string };
}

/** Starts the restore job; resolves with its id and the resource type. */
async function startTest(o: RunTestOptions): Promise<{ restoreJobId: string; resourceType: string }> {
  const [sel] = await resolveSelections({ ...o, plan: o.plan, selection: o.selection });
  if (!sel)
    throw new UsageError(
      `no selection ${o.selection} in plan ${o.plan} ${o.fromAccount ? 'in the account' : 'in the config (or the account)'}: run "restore-validation doctor" to list them`,
    );
  const resources = o.resource ? [o.resource] : await resourcesOf(sel, o.clients.backup, o.clients.tagging);
  if (resources.length !== 1)
    throw new UsageError(
      resources.length === 0
        ? `selection ${sel.selection} covers no protected resource: pass --resource ARN`
        : `selection ${sel.selection} covers ${resources.length} resources: pick one with --resource (${resources.slice(0, 5).join(', ')}${resources.length > 5 ? ', …' : ''})`,
    );
  const resourceArn = resources[0] ?? '';
  const { inWindow } = await latestRecoveryPoint(o.clients.backup, resourceArn, sel, new Date());
  if (!inWindow)
    throw new UsageError(
      `${resourceArn} has no recovery point inside the ${sel.recoveryPoints.selectionWindowDays}-day selection window: run "restore-validation doctor" for the fix`,
    );
  if (!sel.iamRoleArn)
    throw new UsageError(
      'no IAM role to restore with: set restoreTesting.iamRoleArn in the config, or use --from-account (the deployed selection names its role)',
    );
  const { effective } = await restoreMetadata(o.clients.backup, inWindow, sel.overrides);
  const metadata: Record<string, string> = { ...effective.raw };
  const nameKey = NAME_KEYS[sel.resourceType];
  const shortId = randomUUID().slice(0, 8);
  // Named like a restore test, so the validators' safety guard lets them touch it.
  if (nameKey && !effective.get(nameKey)?.startsWith(RESTORE_TEST_PREFIX))
    metadata[nameKey] = `${RESTORE_TEST_PREFIX}-${shortId}`;
  const started = await o.clients.backup.send(
    new StartRestoreJobCommand({
      RecoveryPointArn: inWindow.recoveryPointArn,
      Metadata: metadata,
      IamRoleArn: sel.iamRoleArn,
      ResourceType: sel.resourceType,
      IdempotencyToken: `run-test-${shortId}`,
    }),
  );
  if (!started.RestoreJobId) throw new Error('StartRestoreJob returned no RestoreJobId');
  o.io.err(
    `started restore job ${started.RestoreJobId}: ${sel.resourceType} ${resourceArn} from ${inWindow.recoveryPointArn} (plan ${sel.plan}, selection ${sel.selection})\n`,
  );
  return { restoreJobId: started.RestoreJobId, resourceType: sel.resourceType };
}

/** Polls DescribeRestoreJob until the job is final, printing progress lines. */
async function waitForJob(o: RunTestOptions, restoreJobId: string): Promise<DescribeRestoreJobCommandOutput> {
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  // Hand-rolled: client-backup has no waiters.
  for (;;) {
    const job = await o.clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }));
    const line = `restore job ${restoreJobId}: ${job.Status ?? '?'}${job.PercentDone ? ` ${job.PercentDone}` : ''}${job.ExpectedCompletionTimeMinutes ? ` (about ${job.ExpectedCompletionTimeMinutes} min)` : ''}`;
    if (line !== last) o.io.err(`${line}\n`);
    last = line;
    if (FINAL_JOB_STATUSES.has(job.Status ?? '')) return job;
    if (Date.now() > deadline)
      throw new Error(
        `restore job ${restoreJobId} not finished after ${Math.round(o.timeoutMs / 60_000)} min; it keeps running (check it with aws backup describe-restore-job)`,
      );
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
}

/** Whether AWS Backup takes a validation result for this job (see the module comment). */
async function acceptsVerdicts(o: RunTestOptions, restoreJobId: string): Promise<boolean> {
  try {
    await o.clients.backup.send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: restoreJobId,
        ValidationStatus: 'VALIDATING',
        ValidationStatusMessage: 'restore-validation run-test is validating',
      }),
    );
    return true;
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (['InvalidRequestException', 'InvalidParameterValueException'].includes(name)) {
      o.io.err(
        `AWS Backup refused a validation result for ${restoreJobId} (${name}: ${reasonOf(err)}); the verdict goes to the evidence only\n`,
      );
      return false;
    }
    throw err;
  }
}

export async function runTest(o: RunTestOptions): Promise<number> {
  const { restoreJobId, resourceType } = await startTest(o);
  if (!o.wait) {
    o.io.out(o.json ? `${JSON.stringify({ restoreJobId })}\n` : `${restoreJobId}\n`);
    return 0;
  }
  const job = await waitForJob(o, restoreJobId);
  if (job.Status !== 'COMPLETED') {
    const message = `restore job ${restoreJobId} ${job.Status}: ${job.StatusMessage ?? 'no reason given'}`;
    o.io.out(o.json ? `${verdictJson({ verdict: 'FAILED', message }, [])}\n` : `FAILED: ${message}\n`);
    return 1;
  }
  // Restore tests carry the restore-test tag; this job is ours, so tag what it made the same way.
  if (job.CreatedResourceArn && !NAME_KEYS[resourceType]) {
    try {
      // TagResources reports a resource it could not tag in FailedResourcesMap, not as an error.
      const { FailedResourcesMap = {} } = await o.clients.tagging.send(
        new TagResourcesCommand({
          ResourceARNList: [job.CreatedResourceArn],
          Tags: { [RESTORE_TEST_TAG]: restoreJobId },
        }),
      );
      const failed = FailedResourcesMap[job.CreatedResourceArn];
      if (failed) throw new Error(`${failed.ErrorCode ?? 'not tagged'}: ${failed.ErrorMessage ?? ''}`);
    } catch (err) {
      o.io.err(
        `note: could not tag ${job.CreatedResourceArn} ${RESTORE_TEST_TAG} (${reasonOf(err)}); validators may refuse to touch it\n`,
      );
    }
  }
  const post = await acceptsVerdicts(o, restoreJobId);
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Restore Job State Change',
    source: 'aws.backup',
    account: job.AccountId ?? '',
    time: new Date().toISOString(),
    region: '',
    resources: job.CreatedResourceArn ? [job.CreatedResourceArn] : [],
    detail: {
      restoreJobId,
      backupVaultArn: job.BackupVaultArn,
      recoveryPointArn: job.RecoveryPointArn,
      sourceResourceArn: job.SourceResourceArn,
      resourceType,
      status: 'COMPLETED',
      createdResourceArn: job.CreatedResourceArn,
      creationDate: job.CreationDate?.toISOString(),
      completionDate: job.CompletionDate?.toISOString(),
      iamRoleArn: job.IamRoleArn,
    },
  };
  const validator = await loadValidator(resourceType);
  const outcome = await processRestoreEvent(
    event,
    { getRemainingTimeInMillis: () => 15 * 60_000 },
    {
      validator,
      // Not a restore test (no plan ARN): validate it anyway, it is the point of run-test.
      config: { ...o.config, defaults: { ...o.config.defaults, validateManualRestores: true } },
      dryRun: !post,
      persistenceStore: false,
      sinks: o.evidenceDir ? [async (record) => void writeEvidenceFile(o.evidenceDir as string, record)] : [],
      settings: runtimeSettings(),
      // The validator's clients follow --profile/--region; Backup is the one run-test already uses.
      clients: createClients({ ...o.aws }, { backup: o.clients.backup }),
    },
  );
  if (!outcome.verdict || !outcome.evidence) {
    o.io.err(`run-test: ${outcome.outcome}: ${outcome.message}\n`);
    return 1;
  }
  const verdict = { verdict: outcome.verdict, message: outcome.message };
  const checks = outcome.evidence.checks;
  if (o.json) o.io.out(`${verdictJson(verdict, checks)}\n`);
  else {
    o.io.out(
      `restore-validation run-test ${restoreJobId} (${post ? 'verdict posted' : 'verdict not posted: evidence only'})\n`,
    );
    for (const c of checks) o.io.out(`  ${c.status.toUpperCase().padEnd(5)}  ${c.id}  ${c.detail}\n`);
    o.io.out(`\n${verdict.verdict}: ${verdict.message}\n`);
  }
  if (job.CreatedResourceArn)
    o.io.err(
      `note: AWS Backup does not delete resources of jobs started outside a plan: delete ${job.CreatedResourceArn} when done\n`,
    );
  return outcome.verdict === 'SUCCESSFUL' ? 0 : 1;
}

/** The CLI entry (bin/cli.ts). */
export async function run(argv: string[], io: Io, clients?: RestoreTestingClients): Promise<number> {
  const cmd = new Command('restore-validation run-test')
    .description(
      'start a restore test now for one selection and resource, then validate it and print the verdict',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .requiredOption('--plan <name>', 'restore testing plan')
    .requiredOption('--selection <name>', 'selection of the plan')
    .option('--resource <arn>', 'protected resource to restore (needed when the selection covers several)')
    .option(
      '--config <file>',
      'config file (profiles, and the restoreTesting section)',
      'validation.config.yaml',
    )
    .option('--from-account', 'read the selection from the account instead of the config');
  stackOptions(cmd)
    .option('--no-wait', 'print the restore job id and exit')
    .addOption(new Option('--poll-seconds <n>', 'seconds between DescribeRestoreJob calls').default('30'))
    .addOption(new Option('--timeout-minutes <n>', 'give up waiting after this long').default('240'))
    .option('--evidence <dir>', 'write the evidence record as JSON under DIR')
    .option('--profile <name>', 'AWS named profile')
    .option('--region <region>', 'AWS region')
    .option('--json', 'print exactly one JSON object');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<{
    plan: string;
    selection: string;
    resource?: string;
    config: string;
    fromAccount?: boolean;
    stackName: string;
    securityGroupId?: string;
    dbSubnetGroup?: string;
    wait: boolean;
    pollSeconds: string;
    timeoutMinutes: string;
    evidence?: string;
    profile?: string;
    region?: string;
    json?: boolean;
  }>();
  const pollSeconds = Number(o.pollSeconds);
  const timeoutMinutes = Number(o.timeoutMinutes);
  if (!(pollSeconds >= 0) || !(timeoutMinutes > 0))
    throw new UsageError('--poll-seconds must be 0 or more and --timeout-minutes more than 0');
  const c = clients ?? restoreTestingClients(o);
  await requireRegion(c.backup);
  // A selection read from the account carries its own overrides: no stack facts to look up.
  const facts: StackFacts = o.fromAccount
    ? { securityGroupId: o.securityGroupId, dbSubnetGroupName: o.dbSubnetGroup }
    : await resolveStackFacts(c.cfn, o, io.err);
  return runTest({
    config: loadConfigFile(o.config),
    plan: o.plan,
    selection: o.selection,
    resource: o.resource,
    fromAccount: o.fromAccount,
    facts,
    clients: c,
    wait: o.wait,
    pollMs: pollSeconds * 1000,
    timeoutMs: timeoutMinutes * 60_000,
    evidenceDir: o.evidence,
    io,
    json: Boolean(o.json),
    aws: { profile: o.profile, region: o.region },
  });
}
