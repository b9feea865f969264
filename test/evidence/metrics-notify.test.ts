import { createServer, type Server } from 'node:http';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, recordValidationMetrics } from '../../shared/metrics';
import { notificationSubject, notifyVerdict } from '../../shared/notify';
import { freePort, type Moto, startMoto } from '../support/engines';
import { makeRecord } from './fixtures';

/** Captures what publishStoredMetrics would print, one EMF object per flush. */
function capture(m: Metrics): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  vi.spyOn(m, 'publishStoredMetrics').mockImplementation(() => {
    out.push(m.serializeMetrics() as unknown as Record<string, unknown>);
    m.clearMetrics();
    m.clearDimensions();
    return m;
  });
  return out;
}

describe('recordValidationMetrics', () => {
  it('emits totals and per-type metrics when a validation failed', () => {
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'restore-validation' });
    const out = capture(m);
    const record = {
      ...makeRecord(1, { count: 10 }),
      resourceType: 'RDS',
      verdict: 'FAILED' as const,
      dataAgeMinutes: 42,
      restoreDurationSeconds: 900,
    };
    recordValidationMetrics(record, m);
    expect(out).toHaveLength(2);
    const [totals, byType] = out as [Record<string, unknown>, Record<string, unknown>];
    expect(totals).toMatchObject({ Validations: 1, ValidationFailed: 1, ValidationTimedOut: 0 });
    expect(totals).not.toHaveProperty('ResourceType');
    expect(byType).toMatchObject({
      ResourceType: 'RDS',
      ValidationFailed: 1,
      ValidationSucceeded: 0,
      RestoreDurationSeconds: 900,
      DataAgeMinutes: 42,
    });
    const dims = (byType._aws as { CloudWatchMetrics: { Dimensions: string[][]; Namespace: string }[] })
      .CloudWatchMetrics[0];
    expect(dims?.Namespace).toBe('RestoreValidation');
    expect(dims?.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'ResourceType']));
  });

  it('omits data age when no freshness check measured it', () => {
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'restore-validation' });
    const out = capture(m);
    recordValidationMetrics(
      { ...makeRecord(2, { count: 10 }), dataAgeMinutes: undefined, verdict: 'SUCCESSFUL' },
      m,
    );
    expect(out[1]).toMatchObject({ ValidationSucceeded: 1 });
    expect(out[1]).not.toHaveProperty('DataAgeMinutes');
  });
});

describe('recordValidationMetrics with objectives', () => {
  it('counts a missed objective in the totals and per objective, and an unmeasured one not at all', () => {
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'restore-validation' });
    const out = capture(m);
    recordValidationMetrics(
      {
        ...makeRecord(3, { count: 10 }),
        verdict: 'SUCCESSFUL',
        objectives: {
          onMiss: 'report',
          rto: { objectiveMinutes: 30, measuredMinutes: 42, met: false },
          rpo: { objectiveMinutes: 60, met: null },
        },
      },
      m,
    );
    const [totals, byType] = out as [Record<string, unknown>, Record<string, unknown>];
    expect(totals).toMatchObject({ ObjectivesMissed: 1 });
    expect(byType).toMatchObject({ RtoObjectiveMissed: 1 });
    expect(byType).not.toHaveProperty('RpoObjectiveMissed');
  });

  it('records no objective metric for a profile without objectives', () => {
    const m = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'restore-validation' });
    const out = capture(m);
    recordValidationMetrics({ ...makeRecord(4, { count: 10 }), verdict: 'SUCCESSFUL' }, m);
    expect(out[0]).not.toHaveProperty('ObjectivesMissed');
    expect(out[1]).not.toHaveProperty('RtoObjectiveMissed');
  });
});

describe('notifyVerdict', () => {
  let moto: Moto;
  let sns: SNSClient;
  let server: Server;
  let endpoint: string;
  const received: {
    Subject?: string;
    Message?: string;
    MessageAttributes?: Record<string, { Value: string }>;
  }[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    sns = new SNSClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const port = await freePort();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const msg = JSON.parse(body) as { Type?: string; Subject?: string; Message?: string };
        if (msg.Type === 'Notification') received.push(msg);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${port}/`;
  });
  afterAll(async () => {
    server?.close();
    await moto?.stop();
  });

  it('publishes a short readable summary when the verdict is FAILED', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'alarms' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: endpoint }));
    const record = makeRecord(1, { count: 10, verdict: 'FAILED' });
    expect(await notifyVerdict(sns, TopicArn, record, 's3://evidence/x.json')).toBe(true);
    await vi.waitFor(() => expect(received).toHaveLength(1), { timeout: 60_000 });
    const msg = received[0];
    expect(msg?.Subject).toBe(
      `[restore-validation] FAILED ${record.resourceType} ${record.sourceResourceArn?.split(/[:/]/).pop()}`,
    );
    expect(msg?.Message).toContain('rows-present [fail]: orders: 0 rows');
    expect(msg?.Message).toContain('Evidence: s3://evidence/x.json');
    expect(msg?.Message).toMatch(/^Restore validation FAILED\nReason: /);
  });

  it('sends nothing when the verdict is SUCCESSFUL or no topic is set', async () => {
    const publish = vi.spyOn(sns, 'send');
    expect(
      await notifyVerdict(sns, 'arn:aws:sns:us-east-1:123456789012:alarms', {
        ...makeRecord(2, { count: 10 }),
        verdict: 'SUCCESSFUL',
      }),
    ).toBe(false);
    expect(await notifyVerdict(sns, undefined, { ...makeRecord(2, { count: 10 }), verdict: 'FAILED' })).toBe(
      false,
    );
    expect(publish).not.toHaveBeenCalled();
  });

  it('keeps the subject ASCII and within 100 characters when the name is long', () => {
    const subject = notificationSubject({
      ...makeRecord(3, { count: 10 }),
      sourceResourceArn: `arn:aws:s3:::${'ü'.repeat(150)}`,
    });
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
