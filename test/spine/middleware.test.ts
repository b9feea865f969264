/**
 * The validator Lambda as middy runs it: the logger middleware, the restore lifecycle middleware and
 * the validation as the handler body. Every way out of an invocation — a validation, an event that is
 * ignored, a duplicate delivery, a replayed result, an error — must leave the logger as it found it
 * (Powertools' `resetKeys`), or one job's keys end up on the next job's log lines.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CheckDefinition, defineCheck, pass } from '../../shared/checks';
import { createClients } from '../../shared/clients';
import { parseConfigText } from '../../shared/config/index';
import { runtimeSettings } from '../../shared/env';
import { createValidatorHandler } from '../../shared/handler';
import type { LifecycleOptions } from '../../shared/lifecycle';
import { defineValidator } from '../../shared/validator';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { backupClient, heldCheck, idempotencyStorePerTest, jobFromEvent } from '../support/lifecycle-harness';

let fake: FakeBackupApi;
let checks: CheckDefinition<unknown>[];
let log: Logger;

const validator = defineValidator<unknown>({
  name: 'rds',
  resourceTypes: ['RDS'],
  gather: async (ctx) => {
    // A validator may add keys of its own; the invocation's end must take them away again.
    ctx.logger.appendKeys({ dbInstance: 'awsbackup-restore-test-53a1c2f0' });
    return {};
  },
  checks: () => checks,
});

const lambdaContext = () =>
  ({
    functionName: 'rv-rds',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rv-rds',
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    logGroupName: '/aws/lambda/rv-rds',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

function handlerWith(extra: Partial<LifecycleOptions> = {}) {
  return createValidatorHandler(validator, {
    config: parseConfigText('version: 1\n'),
    clients: createClients({ region: 'us-east-1' }, { backup: backupClient(fake.endpoint) }),
    settings: runtimeSettings({}),
    persistenceStore: false,
    sinks: [],
    logger: log,
    ...extra,
  });
}

beforeEach(async () => {
  fake = new FakeBackupApi();
  await fake.start();
  jobFromEvent(fake, fixture('completed-rds.json'));
  checks = [defineCheck({ id: 'ok', run: () => pass('fine') })];
  log = new Logger({ serviceName: 'middleware-test', logLevel: 'SILENT' });
});
afterEach(async () => fake.stop());

describe('validator handler (middy)', () => {
  it('runs the validation as the handler body and resets the logger after it', async () => {
    const reset = vi.spyOn(log, 'resetKeys');
    const out = await handlerWith()(fixture('completed-rds.json'), lambdaContext());
    expect(out.outcome).toBe('reported');
    expect(reset).toHaveBeenCalledTimes(1);
  });

  it("resets the logger's keys when the lifecycle returns early for an ignored event", async () => {
    const reset = vi.spyOn(log, 'resetKeys');
    const out = await handlerWith()(fixture('failed-rds.json'), lambdaContext());
    expect(out.outcome).toBe('ignored');
    expect(reset).toHaveBeenCalledTimes(1);
  });

  it("resets the logger's keys when the lifecycle returns early for a malformed event", async () => {
    const reset = vi.spyOn(log, 'resetKeys');
    const out = await handlerWith()(fixture('malformed-wrong-detail-type.json'), lambdaContext());
    expect(out.outcome).toBe('rejected');
    expect(reset).toHaveBeenCalledTimes(1);
  });

  it("resets the logger's keys when the invocation fails, so Lambda retries it clean", async () => {
    const reset = vi.spyOn(log, 'resetKeys');
    // AWS Backup unreachable: the event must be retried by Lambda, not answered.
    const unreachable = createClients(
      { region: 'us-east-1' },
      { backup: backupClient('http://127.0.0.1:9') },
    );
    await expect(
      handlerWith({ clients: unreachable })(fixture('completed-rds.json'), lambdaContext()),
    ).rejects.toThrow();
    expect(reset).toHaveBeenCalledTimes(1);
  });
});

describe('validator handler with idempotency (moto)', () => {
  const persistence = idempotencyStorePerTest('mw-idem-');

  it("resets the logger's keys on a duplicate delivery and on a replayed result (early returns)", async () => {
    const { check, entered, release, runs } = heldCheck();
    checks = [check];
    const handler = handlerWith({ persistenceStore: persistence() });
    const reset = vi.spyOn(log, 'resetKeys');
    const first = handler(fixture('completed-rds.json'), lambdaContext());
    await entered.promise;
    const during = await handler(fixture('completed-rds.json'), lambdaContext());
    expect(during.outcome).toBe('duplicate');
    expect(reset).toHaveBeenCalledTimes(1); // the duplicate's own reset; the first is still running
    release.resolve();
    expect((await first).outcome).toBe('reported');
    expect(reset).toHaveBeenCalledTimes(2);
    const replayed = await handler(fixture('completed-rds.json'), lambdaContext());
    expect(replayed.outcome).toBe('reported');
    expect(runs()).toBe(1);
    expect(reset).toHaveBeenCalledTimes(3);
  });
});
