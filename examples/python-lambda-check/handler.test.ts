/**
 * The Python `lambda` check: the handler itself, run by python3 over the documented sample payloads,
 * and the whole round trip — restore-validation builds the payload, "Lambda" (aws-sdk-client-mock
 * running the real Python handler) answers, and the answer becomes the check result and the verdict.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  buildLambdaCheckPayload,
  type Config,
  createClients,
  defineValidator,
  parseConfig,
  runValidator,
} from 'restore-validation';
import { beforeEach, describe, expect, it } from 'vitest';
import { logger } from '../../shared/logger';
import { loadRestoreJobLike } from '../../test/extend/job-fixture';

const HANDLER = join(import.meta.dirname, 'handler.py');
const payloadFile = (name: string) => join(import.meta.dirname, 'payloads', name);
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:backup-recent';

/** Runs handler.py as the Lambda runtime would: stdout is the answer, exit code 1 a function error. */
function runPython(payload: string, now?: string): { code: number; out: unknown } {
  const res = spawnSync('python3', [HANDLER, ...(now ? [now] : [])], {
    input: payload,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (res.error) throw res.error;
  return { code: res.status ?? -1, out: JSON.parse(res.stdout) };
}

describe('python lambda check handler', () => {
  it.each([
    [
      'fresh-rds.json',
      {
        status: 'pass',
        detail: 'awsbackup-restore-test-orders-1a2b: recovery point 15.0 h old, required metadata present',
      },
    ],
    [
      'ec2-missing-metadata.json',
      {
        status: 'fail',
        detail:
          'recovery point is 63.0 h old (at most 26 h); metadata lacks securityGroupIds, iamInstanceProfileName',
        data: { recoveryPointAgeHours: 63, missingMetadata: ['securityGroupIds', 'iamInstanceProfileName'] },
      },
    ],
    [
      'local-run.json',
      { status: 'skip', detail: 'no recovery point time in a local run (pass --recovery-point-time)' },
    ],
    [
      'future-version.json',
      { status: 'error', detail: 'unsupported payload version 2; this function understands 1' },
    ],
  ])('answers %s as documented', (file, expected) => {
    const { code, out } = runPython(readFileSync(payloadFile(file), 'utf8'), '2026-11-25T12:00:00Z');
    expect(code).toBe(0);
    expect(out).toMatchObject(expected);
  });

  it('raises (a function error) when the payload lacks restoreJob', () => {
    const { code, out } = runPython(readFileSync(payloadFile('truncated.json'), 'utf8'));
    expect(code).toBe(1);
    expect(out).toEqual({ errorType: 'KeyError', errorMessage: "'restoreJob'" });
  });

  it('documents exactly the payload restore-validation sends (fresh-rds.json is builder output)', () => {
    const config = parseConfig({
      version: 1,
      profiles: [
        {
          name: 'orders-db',
          checks: [
            {
              id: 'backup-recent',
              description: 'the nightly backup is at most 26 h old',
              lambda: {
                functionArn: FN,
                timeoutSeconds: 30,
                options: {
                  maxRecoveryPointAgeHours: 26,
                  requiredMetadata: ['dbInstanceIdentifier', 'VpcSecurityGroupIds'],
                },
              },
            },
          ],
        },
      ],
    });
    const profile = config.profiles[0];
    const check = profile?.checks[0];
    if (!profile || !check) throw new Error('fixture config has no check');
    const built = buildLambdaCheckPayload(check, { job: loadRestoreJobLike(), profile, mode: 'lambda' });
    expect(built).toEqual(JSON.parse(readFileSync(payloadFile('fresh-rds.json'), 'utf8')));
  });
});

describe('python lambda check round trip', () => {
  const lambda = mockClient(LambdaClient);
  const bare = defineValidator({
    name: 'bare',
    resourceTypes: ['RDS'],
    gather: async () => ({}),
    checks: () => [],
  });

  beforeEach(() => {
    lambda.reset();
    // "Lambda": the real handler answers the real payload; a raised exception is a FunctionError.
    lambda.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const { code, out } = runPython(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      return {
        StatusCode: 200,
        ...(code === 0 ? {} : { FunctionError: 'Unhandled' }),
        Payload: Buffer.from(JSON.stringify(out)),
      };
    });
  });

  function config(options: Record<string, unknown>): Config {
    return parseConfig({
      version: 1,
      profiles: [
        {
          name: 'orders-db',
          match: { resourceType: 'RDS' },
          checks: [{ id: 'backup-recent', lambda: { functionArn: FN, options } }],
        },
      ],
    });
  }

  async function validate(cfg: Config, recoveryPointAgeMs: number) {
    const job = {
      ...loadRestoreJobLike(),
      recoveryPointCreationDate: new Date(Date.now() - recoveryPointAgeMs),
    };
    return runValidator(bare, {
      job,
      profile: cfg.profiles[0],
      config: cfg,
      logger,
      clients: createClients({ region: 'us-east-1' }, { lambda: new LambdaClient({ region: 'us-east-1' }) }),
      deadline: Date.now() + 60_000,
      mode: 'lambda',
      target: {},
      settings: {},
    });
  }

  it('is SUCCESSFUL when the Python check passes', async () => {
    const run = await validate(config({ requiredMetadata: ['dbInstanceIdentifier'] }), 2 * 3600_000);
    expect(run.results).toMatchObject([
      { id: 'backup-recent', status: 'pass', data: { recoveryPointAgeHours: 2, missingMetadata: [] } },
    ]);
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  it('is FAILED with the Python detail when the recovery point is too old', async () => {
    const run = await validate(config({ maxRecoveryPointAgeHours: 24 }), 30 * 3600_000);
    expect(run.results).toMatchObject([
      { id: 'backup-recent', status: 'fail', detail: 'recovery point is 30.0 h old (at most 24 h)' },
    ]);
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.verdict.message).toContain('recovery point is 30.0 h old');
  });

  it('is FAILED with an error result when the Python check rejects its options', async () => {
    const run = await validate(config({ requiredMetadata: 'subnetId' }), 3600_000);
    expect(run.results).toMatchObject([
      {
        id: 'backup-recent',
        status: 'error',
        detail: 'options.requiredMetadata must be a list of metadata key names',
      },
    ]);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('reports the Python exception as an error result when the handler raises', async () => {
    const run = await validate(config({ maxRecoveryPointAgeHours: 'soon' }), 3600_000);
    expect(run.results[0]?.status).toBe('error');
    expect(run.results[0]?.detail).toBe(
      "the check function failed (Unhandled): ValueError: could not convert string to float: 'soon'",
    );
  });
});
