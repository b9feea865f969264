/**
 * A whole validator of your own: HTTP health of a restored EC2 instance.
 *
 * In Lambda it reads the restored instance (DescribeInstances), requires it to be running, waits for
 * the service to answer on its private IP and checks each endpoint the profile lists. Locally,
 * `restore-validation check ec2-http --validator examples/ec2-http-health/validator.ts --url URL`
 * runs the same checks against any URL (a copy of the service on your laptop).
 *
 * Profile options (`options:` of the matching profile):
 *
 *   options:
 *     port: 8080                 # where the service listens on the instance (default 80)
 *     readyTimeoutSeconds: 300   # how long to wait for the first answer after boot (default 300)
 *     endpoints:
 *       - { id: health, path: /health, status: 200, bodyMatches: '"status":\s*"ok"' }
 *       - { id: orders-api, path: /api/orders?limit=1, status: 200 }
 *
 * The function must run in the instance's VPC (addValidator's `vpc` prop) with a security group the
 * instance accepts; restored instances keep the security groups of the restore selection's metadata.
 * It imports only from the package root.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  type CheckDefinition,
  defineCheck,
  defineValidator,
  fail,
  type LocalTarget,
  pass,
  ResourceStateError,
  reasonOf,
  registerClients,
  type ValidationContext,
  withRetry,
  z,
} from 'restore-validation';

// A Lambda bundle carries only the SDK clients its modules register.
registerClients({ ec2: EC2Client });

const endpointSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/),
  path: z.string().startsWith('/'),
  status: z.number().int().min(100).max(599).default(200),
  bodyMatches: z.string().optional(),
});
const optionsSchema = z.strictObject({
  port: z.number().int().min(1).max(65535).default(80),
  readyTimeoutSeconds: z.number().positive().max(900).default(300),
  endpoints: z
    .array(endpointSchema)
    .min(1)
    .default([{ id: 'http-root', path: '/', status: 200 }]),
});
export type HttpHealthOptions = z.output<typeof optionsSchema>;

export interface HttpFacts {
  /** `http://10.0.1.23:8080` in Lambda, the `--url` locally. */
  readonly baseUrl: string;
  readonly instanceId?: string;
  readonly options: HttpHealthOptions;
}

/** The profile's options, validated; a typo is a readable error result, not a crash. */
export function httpOptions(ctx: Pick<ValidationContext, 'profile'>): HttpHealthOptions {
  const parsed = optionsSchema.safeParse(ctx.profile?.options ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `profile ${ctx.profile?.name} options.${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Polls until the service answers anything over HTTP (a booting instance refuses connections first). */
async function waitForService(url: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 250; Date.now() < until && !signal.aborted; delay = Math.min(delay * 2, 5_000)) {
    try {
      const res = await fetch(url, {
        signal: AbortSignal.any([
          signal,
          AbortSignal.timeout(Math.max(100, Math.min(5_000, until - Date.now()))),
        ]),
      });
      await res.body?.cancel();
      return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, until - Date.now()))));
  }
  throw new ResourceStateError(
    `the service at ${url} did not answer within ${Math.round(timeoutMs / 1000)} s: ${reasonOf((last as Error)?.cause ?? last)}`,
  );
}

/** One endpoint's check: status code, then (optionally) the body against a regular expression. */
export function endpointCheck(e: HttpHealthOptions['endpoints'][number]): CheckDefinition<HttpFacts> {
  const pattern = e.bodyMatches === undefined ? undefined : new RegExp(e.bodyMatches);
  return defineCheck<HttpFacts>({
    id: e.id,
    description: `GET ${e.path} answers ${e.status}${pattern ? ` with a body matching /${e.bodyMatches}/` : ''}`,
    async run(facts, { signal }) {
      const url = new URL(e.path, facts.baseUrl).toString();
      const started = performance.now();
      const res = await fetch(url, { signal, redirect: 'manual' });
      const body = await res.text();
      const ms = Math.round(performance.now() - started);
      const data = { status: res.status, ms, bytes: body.length };
      if (res.status !== e.status)
        return fail(`GET ${e.path} answered ${res.status}, expected ${e.status}`, data);
      // Never echo the body into the evidence: it may hold personal data.
      if (pattern && !pattern.test(body))
        return fail(
          `GET ${e.path} answered ${res.status} but the body does not match /${e.bodyMatches}/`,
          data,
        );
      return pass(`GET ${e.path} answered ${res.status} in ${ms} ms`, data);
    },
  });
}

export const validator = defineValidator<HttpFacts>({
  name: 'ec2-http-health',
  resourceTypes: ['EC2'],
  async gather(ctx) {
    const options = httpOptions(ctx);
    if (ctx.mode === 'local') {
      const url = ctx.target.url;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url))
        throw new Error('give the service URL: --url http://127.0.0.1:8080');
      await waitForService(url, Math.min(options.readyTimeoutSeconds * 1000, ctx.remainingMs()), ctx.signal);
      return { baseUrl: url, options };
    }
    const instanceId = ctx.job.created?.resourceId;
    if (!instanceId?.startsWith('i-'))
      throw new ResourceStateError(
        `the restore job names no EC2 instance (CreatedResourceArn ${ctx.job.createdResourceArn ?? 'missing'})`,
      );
    const out = await withRetry(
      () =>
        ctx.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), {
          abortSignal: ctx.signal,
        }),
      {
        deadline: ctx.deadline,
        signal: ctx.signal,
      },
    ).catch((err: unknown) => {
      if ((err as Error).name === 'InvalidInstanceID.NotFound')
        throw new ResourceStateError(`restored instance ${instanceId} was not found`);
      throw err;
    });
    const instance = out.Reservations?.[0]?.Instances?.[0];
    if (!instance) throw new ResourceStateError(`restored instance ${instanceId} was not found`);
    const state = instance.State?.Name ?? 'unknown';
    if (state !== 'running')
      throw new ResourceStateError(`restored instance ${instanceId} is ${state}, not running`);
    if (!instance.PrivateIpAddress)
      throw new ResourceStateError(`restored instance ${instanceId} has no private IP address`);
    const baseUrl = `http://${instance.PrivateIpAddress}:${options.port}`;
    ctx.note('instanceId', instanceId);
    ctx.note('baseUrl', baseUrl);
    await waitForService(
      baseUrl,
      Math.min(options.readyTimeoutSeconds * 1000, ctx.remainingMs()),
      ctx.signal,
    );
    return { baseUrl, instanceId, options };
  },
  checks(_ctx, facts) {
    return facts.options.endpoints.map(endpointCheck);
  },
});

/** `restore-validation check ec2-http --validator <this file> --url URL [--config FILE] [--config-profile NAME]`. */
export const cliTarget: LocalTarget = {
  type: 'ec2-http',
  resourceType: 'EC2',
  summary: "HTTP health of a service, with an EC2 profile's endpoints, against any URL",
  options: [
    {
      flags: '--url <url>',
      description: 'base URL of the service, e.g. http://127.0.0.1:8080',
      required: true,
    },
  ],
  validator,
};
