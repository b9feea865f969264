import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackupClient, DescribeRestoreJobCommand } from '@aws-sdk/client-backup';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClients, registerClients, sdkClientConfig } from '../../shared/clients';
import { isRetryableError, retriedBySdk, withRetry } from '../../shared/retry';
import { FakeBackupApi } from '../support/fake-backup';

registerClients({ backup: BackupClient });

describe('SDK clients', () => {
  let server: Server;
  let endpoint: string;
  let requests: number;
  beforeEach(async () => {
    requests = 0;
    // Accepts the request and never answers: a hung AWS endpoint.
    server = createServer(() => {
      requests++;
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('end a call that gets no answer with a TimeoutError after each attempt has timed out', async () => {
    const clients = createClients({
      endpoint,
      region: 'us-east-1',
      requestTimeoutMs: 200,
      maxAttempts: 2,
      retryDelayMs: 0,
    });
    await expect(
      clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'j' })),
    ).rejects.toMatchObject({ name: 'TimeoutError', $metadata: { attempts: 2 } });
    expect(requests).toBe(2);
  });

  it('stop at the caller’s abort signal, retries included', async () => {
    const backup = new BackupClient(sdkClientConfig({ endpoint, region: 'us-east-1' }));
    const controller = new AbortController();
    const sent = backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'j' }), {
      abortSignal: controller.signal,
    });
    while (requests === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    await expect(sent).rejects.toMatchObject({ name: 'AbortError' });
    expect(requests).toBe(1);
  });
});

describe('one retry layer', () => {
  let fake: FakeBackupApi;
  beforeEach(async () => {
    fake = new FakeBackupApi();
    await fake.start();
    fake.addJob({ RestoreJobId: 'j', ResourceType: 'RDS' });
  });
  afterEach(async () => fake.stop());

  it('withRetry adds no attempts to an SDK call the client has already retried', async () => {
    fake.fail('DescribeRestoreJob', 503, Number.POSITIVE_INFINITY);
    const backup = new BackupClient(
      sdkClientConfig({ endpoint: fake.endpoint, region: 'us-east-1', maxAttempts: 3, retryDelayMs: 0 }),
    );
    const err = await withRetry(() => backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'j' })), {
      sleep: async () => {},
    }).catch((e: unknown) => e);
    expect(isRetryableError(err)).toBe(true);
    expect(retriedBySdk(err)).toBe(true);
    expect(fake.count('DescribeRestoreJob')).toBe(3);
  });

  it('withRetry still retries a transient error that did not come through the SDK', async () => {
    let calls = 0;
    const out = await withRetry(
      async () => {
        if (++calls < 3) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return 'body read';
      },
      { sleep: async () => {} },
    );
    expect(out).toBe('body read');
    expect(calls).toBe(3);
  });

  it('never retries an abort', async () => {
    let calls = 0;
    const aborted = Object.assign(new Error('Request aborted'), { name: 'AbortError', code: 'ECONNRESET' });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw aborted;
        },
        { sleep: async () => {} },
      ),
    ).rejects.toBe(aborted);
    expect(calls).toBe(1);
  });
});
