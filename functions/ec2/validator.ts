/**
 * The EC2 validator: the restored instance boots and serves.
 * - built in: instance state `running`, system and instance status checks `ok` (waited for within a
 *   budget), and the SSM agent ping when the instance has an instance profile;
 * - profile checks: `command` (SSM Run Command, exit code + output regex), `http` (curl run on the
 *   instance through SSM) and `consoleOutput` (no kernel panic markers).
 * SSM reaches a restored instance only when the restore gave it an instance profile: set the restore
 * testing selection's metadata override `iamInstanceProfileName: UseBackedUpValue`.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
import { EC2Client, GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  type CheckDefinition,
  type CheckOutcome,
  defineCheck,
  errored,
  fail,
  pass,
  skip,
} from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import { type CheckConfig, optionsOf } from '../../shared/config/index';
import { ResourceStateError, reasonOf } from '../../shared/errors';
import { compileRegex, type LinearRegex } from '../../shared/regex';
import { withRetry } from '../../shared/retry';
import { ssmCommandKind } from '../../shared/ssm/kinds';
import { pingStatus, runShellCommand } from '../../shared/ssm/run-command';
import { defineValidator, type ValidationContext } from '../../shared/validator';
import { describeRestoredInstance, type InstanceFacts, type StatusFacts, waitForStatus } from './instance';
import { consoleOutputKind, httpKind } from './kinds';
import { type Ec2Settings, ec2Settings } from './settings';

type Ec2Context = ValidationContext<Ec2Settings>;

registerClients({ ec2: EC2Client, ssm: SSMClient });

export interface Ec2Facts {
  readonly instance: InstanceFacts;
  readonly status: StatusFacts;
  /** Whether SSM can be expected to reach the instance (it has an instance profile). */
  readonly ssmReachable: boolean;
  /** Why SSM cannot be used, for checks that need it. */
  readonly ssmUnavailableReason?: string;
  readonly ping?: string;
}

/** Markers of a boot that went wrong; matched case-sensitively against the console output. */
export const PANIC_MARKERS: readonly RegExp[] = [
  /Kernel panic - not syncing/,
  /kernel BUG at /,
  /BUG: unable to handle/,
  /Unable to mount root fs/,
  /You are in emergency mode/,
  /Give root password for maintenance/,
  /end Kernel panic/,
];

/** Wait budget and poll interval, from the validator's settings. */
function timing(ctx: Ec2Context) {
  const budgetMs = Math.min(ctx.settings.statusWaitSeconds * 1000, Math.max(0, ctx.remainingMs() - 60_000));
  const pollMs = ctx.settings.pollSeconds * 1000;
  return { budgetMs, pollMs };
}

async function gather(ctx: Ec2Context): Promise<Ec2Facts> {
  if (ctx.mode === 'local')
    throw new ResourceStateError(
      'the EC2 validator needs a real restore job (use replay), there is no local EC2 target',
    );
  const instanceId = ctx.job.created?.resourceId;
  if (!instanceId?.startsWith('i-')) {
    throw new ResourceStateError(
      `the restore job names no restored instance (CreatedResourceArn ${ctx.job.createdResourceArn ?? 'missing'})`,
    );
  }
  const instance = await describeRestoredInstance(ctx.clients.ec2, instanceId);
  ctx.note('instanceType', instance.instanceType);
  ctx.note('availabilityZone', instance.availabilityZone);
  const { budgetMs, pollMs } = timing(ctx);
  const s = await waitForStatus(ctx.clients.ec2, instanceId, { budgetMs, pollMs, signal: ctx.signal });
  const state = s.state ?? instance.state;
  ctx.note('statusWaitMs', s.waitedMs);
  const backedUpProfile = ctx.job.metadata.get('iamInstanceProfileName');
  let ssmReachable = Boolean(instance.iamInstanceProfileArn) && state === 'running';
  let ssmUnavailableReason: string | undefined;
  if (!instance.iamInstanceProfileArn) {
    ssmUnavailableReason = `instance has no instance profile, so SSM cannot reach it: set the selection's metadata override iamInstanceProfileName: UseBackedUpValue${backedUpProfile ? ` (it is ${backedUpProfile})` : ''}`;
  } else if (state !== 'running') {
    ssmUnavailableReason = `instance is ${state}`;
  }
  let ping: string | undefined;
  if (ssmReachable) {
    // The agent registers a minute or two after boot: poll within what is left of the budget.
    const until = Date.now() + Math.max(0, budgetMs - s.waitedMs);
    // Hand-rolled: client-ssm has no waiter for an agent's ping status.
    for (;;) {
      ping = await pingStatus(ctx.clients.ssm, instanceId).catch((err) => `error: ${reasonOf(err)}`);
      if (ping === 'Online' || Date.now() + pollMs > until || ctx.signal.aborted) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    if (ping !== 'Online') {
      ssmReachable = false;
      ssmUnavailableReason = `SSM agent is not online (ping status ${ping ?? 'not registered'})`;
    }
  }
  return {
    instance: { ...instance, state },
    status: { system: s.system, instance: s.instance, waitedMs: s.waitedMs },
    ssmReachable,
    ...(ssmUnavailableReason ? { ssmUnavailableReason } : {}),
    ...(ping ? { ping } : {}),
  };
}

function statusCheck(
  id: 'system-status' | 'instance-status',
  what: 'system' | 'instance',
): CheckDefinition<Ec2Facts> {
  return defineCheck<Ec2Facts>({
    id,
    description: `the ${what} status check reads ok`,
    run: (f) => {
      const v = f.status[what];
      const waited = `after ${Math.round(f.status.waitedMs / 1000)} s`;
      if (v === 'ok') return pass(`${what} status ok ${waited}`, { status: v });
      return fail(
        `${what} status is ${v} ${waited}${v === 'initializing' ? ' (still initializing when the wait budget ran out)' : ''}`,
        { status: v },
      );
    },
  });
}

const builtIn: CheckDefinition<Ec2Facts>[] = [
  defineCheck<Ec2Facts>({
    id: 'instance-state',
    run: (f) =>
      f.instance.state === 'running'
        ? pass(`instance ${f.instance.instanceId} is running`, {
            state: 'running',
            instanceType: f.instance.instanceType,
          })
        : fail(`instance ${f.instance.instanceId} is ${f.instance.state}, expected running`, {
            state: f.instance.state,
          }),
  }),
  statusCheck('system-status', 'system'),
  statusCheck('instance-status', 'instance'),
  defineCheck<Ec2Facts>({
    id: 'ssm-ping',
    description: 'the SSM agent is online (only when the instance has an instance profile)',
    run: (f) => {
      if (!f.instance.iamInstanceProfileArn) return skip(f.ssmUnavailableReason ?? 'no instance profile');
      return f.ping === 'Online'
        ? pass('SSM agent online')
        : fail(f.ssmUnavailableReason ?? `SSM ping status ${f.ping ?? 'unknown'}`);
    },
  }),
];

/** User patterns run on RE2: linear in the output's size, so a pattern cannot stall the check. */
const safeRegex = (source: string): LinearRegex => compileRegex(source, { multiline: true });

const clip = (s: string, n = 160) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

function needsSsm(f: Ec2Facts): CheckOutcome | undefined {
  return f.ssmReachable
    ? undefined
    : errored(`cannot run through SSM: ${f.ssmUnavailableReason ?? 'SSM unavailable'}`);
}

const timeoutOf = (c: { readonly timeoutSeconds?: number }, ctx: Ec2Context) =>
  c.timeoutSeconds ?? ctx.profile?.checkTimeoutSeconds ?? ctx.config.defaults.checkTimeoutSeconds;

function commandCheck(c: CheckConfig, ctx: Ec2Context): CheckDefinition<Ec2Facts> {
  const { command, exitCode = 0, outputMatches: pattern, ...o } = optionsOf(ssmCommandKind, c);
  const re = pattern !== undefined ? safeRegex(pattern) : undefined;
  const seconds = timeoutOf(o, ctx);
  return defineCheck<Ec2Facts>({
    id: c.id,
    timeoutMs: (seconds + 45) * 1000,
    run: async (f, { signal }) => {
      const blocked = needsSsm(f);
      if (blocked) return blocked;
      const inv = await runShellCommand(ctx.clients.ssm, f.instance.instanceId, [command], {
        timeoutSeconds: seconds,
        signal,
        comment: `restore-validation ${c.id}`,
        pollMs: ctx.settings.ssmPollMs,
        // On Windows the command is PowerShell (AWS-RunPowerShellScript).
        powerShell: f.instance.windows === true,
      });
      const data = { exitCode: inv.exitCode, ssmStatus: inv.status };
      if (inv.status !== 'Success' && inv.status !== 'Failed')
        return fail(`command ended with SSM status ${inv.status}`, data);
      if (inv.exitCode !== exitCode) {
        return fail(
          `exit code ${inv.exitCode}, expected ${exitCode}${inv.stderr ? `: ${clip(inv.stderr)}` : ''}`,
          data,
        );
      }
      if (re && !re.test(inv.stdout))
        return fail(`output does not match /${pattern}/: ${clip(inv.stdout) || '(empty)'}`, data);
      return pass(`exit code ${inv.exitCode}${re ? `, output matches /${pattern}/` : ''}`, data);
    },
  });
}

const STATUS_MARKER = '__RV_HTTP_STATUS__';

/** The PowerShell equivalent of curlScript for Windows instances (no curl alias reliance). */
export function powerShellHttpScript(url: string, timeoutSeconds: number): string {
  const quoted = `'${url.replace(/'/g, "''")}'`;
  return [
    '$ProgressPreference = "SilentlyContinue"',
    `try { $r = Invoke-WebRequest -UseBasicParsing -TimeoutSec ${Math.max(1, Math.floor(timeoutSeconds))} -Uri ${quoted}; $code = [int]$r.StatusCode; $body = $r.Content }`,
    'catch { if ($_.Exception.Response) { $code = [int]$_.Exception.Response.StatusCode; $body = "" } else { [Console]::Error.WriteLine($_.Exception.Message); $code = 0; $body = "" } }',
    `Write-Output $body; Write-Output "${STATUS_MARKER}$code"`,
  ].join('\n');
}

/** The curl script for an HTTP check: body, then a marker line with the status code. */
export function curlScript(url: string, timeoutSeconds: number): string {
  const quoted = `'${url.replace(/'/g, `'\\''`)}'`;
  return `curl -sS -L --max-time ${Math.max(1, Math.floor(timeoutSeconds))} -w '\\n${STATUS_MARKER}%{http_code}\\n' ${quoted}`;
}

function httpCheck(c: CheckConfig, ctx: Ec2Context): CheckDefinition<Ec2Facts> {
  const { http, ...o } = optionsOf(httpKind, c);
  const want = http.status ?? 200;
  const re = http.bodyMatches !== undefined ? safeRegex(http.bodyMatches) : undefined;
  const seconds = timeoutOf(o, ctx);
  return defineCheck<Ec2Facts>({
    id: c.id,
    timeoutMs: (seconds + 45) * 1000,
    run: async (f, { signal }) => {
      if (http.from === 'validator') return fromValidator(f, http, want, re, seconds, signal);
      const blocked = needsSsm(f);
      if (blocked) return blocked;
      const inv = await runShellCommand(
        ctx.clients.ssm,
        f.instance.instanceId,
        [f.instance.windows ? powerShellHttpScript(http.url, seconds) : curlScript(http.url, seconds)],
        {
          timeoutSeconds: seconds + 10,
          signal,
          comment: `restore-validation ${c.id}`,
          pollMs: ctx.settings.ssmPollMs,
          powerShell: f.instance.windows === true,
        },
      );
      const at = inv.stdout.lastIndexOf(STATUS_MARKER);
      if (at < 0)
        return fail(`curl ${http.url} failed (exit ${inv.exitCode}): ${clip(inv.stderr) || inv.status}`, {
          exitCode: inv.exitCode,
        });
      const status = Number(inv.stdout.slice(at + STATUS_MARKER.length).trim());
      const body = inv.stdout.slice(0, at);
      if (status === 0)
        return fail(`curl ${http.url} got no response: ${clip(inv.stderr) || `exit ${inv.exitCode}`}`, {
          status,
        });
      if (status !== want) return fail(`GET ${http.url} returned ${status}, expected ${want}`, { status });
      if (re && !re.test(body))
        return fail(`GET ${http.url} body does not match /${http.bodyMatches}/: ${clip(body) || '(empty)'}`, {
          status,
        });
      return pass(`GET ${http.url} returned ${status}${re ? ', body matches' : ''}`, { status });
    },
  });
}

/**
 * The HTTP check from the validator's own network, as the AWS restore-testing docs suggest for
 * services: the URL's host is replaced by the restored instance's private IP (the restore gets a new
 * one), so this proves the instance serves across the network, security groups included, which curl
 * on localhost cannot. Needs the validator in the instance's VPC (or a route to it).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-validation.html
 */
async function fromValidator(
  f: Ec2Facts,
  http: { url: string; bodyMatches?: string },
  want: number,
  re: LinearRegex | undefined,
  seconds: number,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const ip = f.instance.privateIpAddress;
  if (!ip) return errored(`${f.instance.instanceId} has no private IP address to connect to`);
  const url = new URL(http.url);
  url.hostname = ip;
  const target = url.toString();
  let res: Response;
  try {
    res = await fetch(target, {
      redirect: 'follow',
      signal: AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, seconds) * 1000)]),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return fail(
      `GET ${target} from the validator got no response: ${cause?.code ?? cause?.message ?? reasonOf(err)}`,
    );
  }
  const body = await res.text().catch(() => '');
  if (res.status !== want)
    return fail(`GET ${target} from the validator returned ${res.status}, expected ${want}`, {
      status: res.status,
    });
  if (re && !re.test(body))
    return fail(`GET ${target} body does not match /${http.bodyMatches}/: ${clip(body) || '(empty)'}`, {
      status: res.status,
    });
  return pass(`GET ${target} from the validator returned ${res.status}${re ? ', body matches' : ''}`, {
    status: res.status,
  });
}

/** Checks console output text; exported for tests. */
export function judgeConsole(
  text: string,
  options: { forbid?: readonly string[]; require?: readonly string[] },
): CheckOutcome {
  if (!text.trim())
    return errored('console output is empty (not available yet, or the instance type does not provide it)');
  const forbidden = [
    ...PANIC_MARKERS.map((r) => safeRegex(r.source)),
    ...(options.forbid ?? []).map(safeRegex),
  ];
  for (const re of forbidden) {
    const index = re.search(text);
    if (index >= 0) {
      const line = text.slice(
        text.lastIndexOf('\n', index) + 1,
        text.indexOf('\n', index) >>> 0 || undefined,
      );
      return fail(`console output contains ${re.source}: ${clip(line)}`);
    }
  }
  const missing = (options.require ?? []).filter((p) => !safeRegex(p).test(text));
  if (missing.length > 0) return fail(`console output lacks ${missing.map((m) => `/${m}/`).join(', ')}`);
  return pass(
    `console output (${text.length} chars) free of kernel panic markers${options.require?.length ? ', required patterns present' : ''}`,
  );
}

function consoleCheck(c: CheckConfig, ctx: Ec2Context): CheckDefinition<Ec2Facts> {
  const opts = optionsOf(consoleOutputKind, c).consoleOutput ?? {};
  return defineCheck<Ec2Facts>({
    id: c.id,
    run: async (f) => {
      // Latest=true reads the live buffer on Nitro instances; older types only keep a snapshot.
      const out = await withRetry(() =>
        ctx.clients.ec2.send(
          new GetConsoleOutputCommand({ InstanceId: f.instance.instanceId, Latest: true }),
        ),
      ).catch(() =>
        withRetry(() =>
          ctx.clients.ec2.send(new GetConsoleOutputCommand({ InstanceId: f.instance.instanceId })),
        ),
      );
      const text = out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '';
      return judgeConsole(text, opts);
    },
  });
}

const FACTORIES: Record<string, (c: CheckConfig, ctx: Ec2Context) => CheckDefinition<Ec2Facts>> = {
  command: commandCheck,
  http: httpCheck,
  consoleOutput: consoleCheck,
};

export const ec2Validator = defineValidator<Ec2Facts, Ec2Settings>({
  name: 'ec2',
  resourceTypes: ['EC2'],
  settings: ec2Settings,
  gather,
  checks(ctx) {
    const profileChecks: CheckDefinition<Ec2Facts>[] = [];
    for (const c of ctx.profile?.checks ?? []) {
      const factory = FACTORIES[c.kind];
      if (!factory) continue; // other kinds (e.g. lambda) are run by the shared implementations
      try {
        profileChecks.push(factory(c, ctx));
      } catch (err) {
        const reason = reasonOf(err);
        profileChecks.push({ id: c.id, run: () => errored(reason) });
      }
    }
    return [...builtIn, ...profileChecks];
  },
});
