/**
 * The HTTP health validator against a real local HTTP server (local mode, as `check ec2-http` runs it)
 * and against moto's EC2 (Lambda mode: instance look-up, state, URL from the private IP).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { type Config, createClients, localRestoreJob, parseConfig, runValidator } from 'restore-validation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../shared/logger';
import { type Moto, startMoto } from '../../test/support/engines';
import { cliTarget, validator } from './validator';

function configWith(options: Record<string, unknown>): Config {
  return parseConfig({
    version: 1,
    profiles: [{ name: 'shop-web', match: { resourceType: 'EC2' }, options }],
  });
}

const ENDPOINTS = [
  { id: 'health', path: '/health', status: 200, bodyMatches: '"status":\\s*"ok"' },
  { id: 'orders-api', path: '/api/orders?limit=1', status: 200 },
];

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

function runLocal(config: Config, url: string) {
  return runValidator(validator, {
    job: localRestoreJob({ resourceType: 'EC2' }),
    profile: config.profiles[0],
    config,
    logger,
    clients: createClients({ region: 'us-east-1' }),
    deadline: Date.now() + 30_000,
    mode: 'local',
    target: { url },
    settings: {},
  });
}

describe('ec2-http-health validator (local mode)', () => {
  let server: Server;
  let url: string;
  let ordersStatus = 200;
  let healthBody = '{"status": "ok"}';

  beforeAll(async () => {
    ({ server, url } = await listen((req, res) => {
      if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end(healthBody);
      else if (req.url === '/api/orders?limit=1') res.writeHead(ordersStatus).end('[{"id":1}]');
      else res.writeHead(404).end();
    }));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('passes every endpoint when the service is healthy', async () => {
    ordersStatus = 200;
    healthBody = '{"status": "ok"}';
    const run = await runLocal(configWith({ endpoints: ENDPOINTS }), url);
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['health', 'pass'],
      ['orders-api', 'pass'],
    ]);
    expect(run.results[0]?.data).toMatchObject({ status: 200 });
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails with the answered status when an endpoint answers 503', async () => {
    ordersStatus = 503;
    const run = await runLocal(configWith({ endpoints: ENDPOINTS }), url);
    expect(run.results.find((r) => r.id === 'orders-api')).toMatchObject({
      status: 'fail',
      detail: 'GET /api/orders?limit=1 answered 503, expected 200',
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails without echoing the body when it does not match bodyMatches', async () => {
    ordersStatus = 200;
    healthBody = '{"status": "degraded", "secret": "s3cr3t"}';
    const run = await runLocal(configWith({ endpoints: ENDPOINTS }), url);
    const health = run.results.find((r) => r.id === 'health');
    expect(health?.status).toBe('fail');
    expect(health?.detail).toContain('does not match');
    expect(JSON.stringify(run.results)).not.toContain('s3cr3t');
  });

  it('checks GET / by default when the profile lists no endpoints', async () => {
    const run = await runLocal(configWith({}), url);
    expect(run.results).toMatchObject([
      { id: 'http-root', status: 'fail', detail: 'GET / answered 404, expected 200' },
    ]);
  });

  it('reports the option path when the profile options are mistyped', async () => {
    const run = await runLocal(configWith({ endpoints: [{ id: 'h', path: 'health' }] }), url);
    expect(run.results).toMatchObject([{ id: 'restored-resource', status: 'error' }]);
    expect(run.results[0]?.detail).toContain('options.endpoints.0.path');
  });

  it('waits for a service that starts late instead of failing at once', async () => {
    const late = createServer((_req, res) => res.writeHead(200).end('{"status":"ok"}'));
    const port = await new Promise<number>((r) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => r(p));
      });
    });
    setTimeout(() => late.listen(port, '127.0.0.1'), 700);
    try {
      const run = await runLocal(
        configWith({ readyTimeoutSeconds: 20, endpoints: [{ id: 'up', path: '/' }] }),
        `http://127.0.0.1:${port}`,
      );
      expect(run.results).toMatchObject([{ id: 'up', status: 'pass' }]);
    } finally {
      await new Promise<void>((r) => late.close(() => r()));
    }
  });

  it('fails the restored resource when nothing answers within readyTimeoutSeconds', async () => {
    const run = await runLocal(configWith({ readyTimeoutSeconds: 1 }), 'http://127.0.0.1:9');
    expect(run.results).toMatchObject([{ id: 'restored-resource', status: 'fail' }]);
    expect(run.results[0]?.detail).toMatch(
      /the service at http:\/\/127\.0\.0\.1:9 did not answer within 1 s/,
    );
  });

  it('declares the --url flag for check ec2-http', () => {
    expect(cliTarget).toMatchObject({ type: 'ec2-http', resourceType: 'EC2', validator });
    expect(cliTarget.options.map((o) => o.flags)).toEqual(['--url <url>']);
  });
});

describe('ec2-http-health validator (Lambda mode, moto EC2)', () => {
  let moto: Moto;
  let ec2: EC2Client;

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint });
  });
  afterAll(async () => moto?.stop());

  async function instance(): Promise<{ id: string; ip: string }> {
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    const out = await ec2.send(
      new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
    );
    const i = out.Instances?.[0];
    return { id: i?.InstanceId ?? '', ip: i?.PrivateIpAddress ?? '' };
  }

  function runLambda(instanceId: string) {
    const config = configWith({ port: 8080, readyTimeoutSeconds: 1 });
    const arn = `arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`;
    return runValidator(validator, {
      job: { ...localRestoreJob({ resourceType: 'EC2', createdResourceArn: arn }), local: false },
      profile: config.profiles[0],
      config,
      logger,
      clients: createClients({ region: 'us-east-1', endpoint: moto.endpoint }),
      deadline: Date.now() + 30_000,
      mode: 'lambda',
      target: {},
      settings: {},
    });
  }

  it('targets the private IP and port of the restored instance when it is running', async () => {
    const { id, ip } = await instance();
    const run = await runLambda(id);
    // Whether moto's private IP answers depends on the network here; the URL built from it does not.
    expect(run.notes.baseUrl).toBe(`http://${ip}:8080`);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(run.notes.instanceId).toBe(id);
  });

  it('fails when the restored instance is stopped', async () => {
    const { id } = await instance();
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const run = await runLambda(id);
    expect(run.results).toMatchObject([
      { id: 'restored-resource', status: 'fail', detail: `restored instance ${id} is stopped, not running` },
    ]);
  });

  it('fails when the restored instance does not exist', async () => {
    const run = await runLambda('i-0123456789abcdef0');
    expect(run.results).toMatchObject([
      {
        id: 'restored-resource',
        status: 'fail',
        detail: 'restored instance i-0123456789abcdef0 was not found',
      },
    ]);
  });
});
