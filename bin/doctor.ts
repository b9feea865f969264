/**
 * `restore-validation doctor`: for every restore testing selection (from the config's
 * `restoreTesting` section, or from the account), preview what AWS Backup would restore from the
 * latest recovery point in the window, and say per resource whether a validator can do its job.
 * Every problem names its fix. Exit 0 healthy, 1 problems, 2 usage (docs/restore-testing.md).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeSecurityGroupsCommand, EC2Client, type SecurityGroup } from '@aws-sdk/client-ec2';
import {
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  IAMClient,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { DescribeDBSubnetGroupsCommand, RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Command } from 'commander';
import { sdkClientConfig } from '../shared/clients';
import { type Config, emptyConfig, loadConfigFile, matchProfile, type Profile } from '../shared/config/index';
import {
  DATABASE_RESOURCE_TYPES,
  OVERRIDE_KEYS,
  type ProtectedResourceType,
  type StackFacts,
  USE_BACKED_UP_VALUE,
  VALIDATOR_WORST_CASE_MINUTES,
} from '../shared/config/restore-testing';
import { reasonOf, UsageError } from '../shared/errors';
import type { RestoreMetadata } from '../shared/metadata';
import { compileGlob } from '../shared/regex';
import {
  latestRecoveryPoint,
  type RecoveryPointView,
  resolveStackFacts,
  resourcesOf,
  restoreMetadata,
  type SelectionView,
  selectionsFromAccount,
  selectionsFromConfig,
  stackOptions,
} from './restore-testing-account';

export type DoctorStatus = 'pass' | 'fail' | 'skip' | 'error';

/** One finding: what was checked, what was found, and (for a problem) the fix. */
export interface DoctorCheck {
  readonly id: string;
  readonly status: DoctorStatus;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorResource {
  readonly resourceArn: string;
  readonly recoveryPointArn?: string;
  readonly checks: readonly DoctorCheck[];
}

export interface DoctorSelection {
  readonly plan: string;
  readonly selection: string;
  readonly resourceType: string;
  readonly source: 'config' | 'account';
  readonly checks: readonly DoctorCheck[];
  readonly resources: readonly DoctorResource[];
}

export interface DoctorReport {
  readonly healthy: boolean;
  readonly selections: readonly DoctorSelection[];
}

/** The AWS clients doctor and run-test use (injectable for tests). */
export interface RestoreTestingClients {
  readonly backup: BackupClient;
  readonly cfn: CloudFormationClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly ec2: EC2Client;
  readonly rds: RDSClient;
  readonly secrets: SecretsManagerClient;
  readonly iam: IAMClient;
}

/**
 * Clients for `--profile` (AWS named profile) and `--region`, with the project's retry strategy and
 * HTTP timeouts (sdkClientConfig: a hung endpoint ends the call instead of doctor); endpoints come from
 * the SDK's own settings.
 */
export function restoreTestingClients(opts: { profile?: string; region?: string }): RestoreTestingClients {
  const c = sdkClientConfig({ region: opts.region, profile: opts.profile });
  return {
    backup: new BackupClient(c),
    cfn: new CloudFormationClient(c),
    tagging: new ResourceGroupsTaggingAPIClient(c),
    ec2: new EC2Client(c),
    rds: new RDSClient(c),
    secrets: new SecretsManagerClient(c),
    iam: new IAMClient(c),
  };
}

const pass = (id: string, detail: string): DoctorCheck => ({ id, status: 'pass', detail });
const fail = (id: string, detail: string, fix: string): DoctorCheck => ({ id, status: 'fail', detail, fix });
const skip = (id: string, detail: string): DoctorCheck => ({ id, status: 'skip', detail });
const errored = (id: string, err: unknown, fix: string): DoctorCheck => ({
  id,
  status: 'error',
  detail: reasonOf(err),
  fix,
});

/** Default ports by engine (inferred metadata `engine`), to read security group rules. */
function enginePort(engine: string | undefined, type: string): number[] {
  const e = (engine ?? '').toLowerCase();
  if (e.includes('postgres')) return [5432];
  if (e.includes('mysql') || e.includes('maria')) return [3306];
  if (type === 'DocumentDB' || e.includes('docdb')) return [27017];
  if (type === 'Neptune' || e.includes('neptune')) return [8182];
  return [5432, 3306];
}

function allowsFrom(sg: SecurityGroup, fromSg: string, ports: readonly number[]): boolean {
  return (sg.IpPermissions ?? []).some(
    (p) =>
      (p.UserIdGroupPairs ?? []).some((g) => g.GroupId === fromSg) &&
      (p.IpProtocol === '-1' ||
        ports.some((port) => (p.FromPort ?? 0) <= port && port <= (p.ToPort ?? p.FromPort ?? 0))),
  );
}

/** The window covers the validator's worst case. */
export function windowCheck(sel: SelectionView): DoctorCheck {
  const worst = VALIDATOR_WORST_CASE_MINUTES[sel.resourceType as ProtectedResourceType];
  if (worst === undefined) return skip('validation-window', `no validator for ${sel.resourceType}`);
  const minutes = sel.validationWindowHours * 60;
  return minutes >= worst
    ? pass(
        'validation-window',
        `${sel.validationWindowHours} h covers the ${sel.resourceType} validator's worst case (${worst} min)`,
      )
    : fail(
        'validation-window',
        `${sel.validationWindowHours} h is shorter than the ${sel.resourceType} validator's worst case (${worst} min): the window can close before the verdict (TIMED_OUT)`,
        `set validationWindowHours: ${Math.ceil(worst / 60)} (or more) on selection ${sel.selection}`,
      );
}

/** A profile matches the restored resource (otherwise only the built-in checks run). */
export function profileCheck(
  profile: Profile | undefined,
  sel: SelectionView,
  resourceArn: string,
): DoctorCheck {
  return profile
    ? pass(
        'profile',
        `profile ${profile.name} (${profile.checks.length} check${profile.checks.length === 1 ? '' : 's'})`,
      )
    : fail(
        'profile',
        `no profile matches ${sel.resourceType} ${resourceArn} in plan ${sel.plan}: only built-in checks run, the data is not looked at`,
        `add a profile with match: { resourceType: ${sel.resourceType}, sourceResourceArn: "${resourceArn}" } and checks to the config`,
      );
}

async function reachabilityChecks(
  sel: SelectionView,
  meta: RestoreMetadata,
  facts: StackFacts,
  clients: RestoreTestingClients,
): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const validatorSg = facts.securityGroupId;
  if (!validatorSg) {
    out.push(
      fail(
        'reachable',
        "the validators' security group is unknown: cannot tell whether the restored database is reachable",
        'deploy the stack with a vpc (its outputs name the group), or pass --security-group-id and --db-subnet-group',
      ),
    );
    return out;
  }
  const restoredSgs = meta.getList(OVERRIDE_KEYS.securityGroups);
  const ports = enginePort(meta.get('engine'), sel.resourceType);
  const sgFix = `add the override ${OVERRIDE_KEYS.securityGroups}: '["${validatorSg}"]' to selection ${sel.selection}`;
  let validatorVpc: string | undefined;
  try {
    const ids = [...new Set([validatorSg, ...restoredSgs])];
    const { SecurityGroups = [] } = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: ids }),
    );
    validatorVpc = SecurityGroups.find((g) => g.GroupId === validatorSg)?.VpcId;
    const open = SecurityGroups.filter((g) => restoredSgs.includes(g.GroupId ?? '')).find((g) =>
      allowsFrom(g, validatorSg, ports),
    );
    out.push(
      restoredSgs.length === 0
        ? fail('reachable', 'the restore gets no security group: it uses the VPC default group', sgFix)
        : open
          ? pass('reachable', `${open.GroupId} admits ${validatorSg} on ${ports.join('/')}`)
          : fail(
              'reachable',
              `none of ${restoredSgs.join(', ')} admits the validators' group ${validatorSg} on ${ports.join('/')}: the validator cannot connect`,
              sgFix,
            ),
    );
  } catch (err) {
    out.push(errored('reachable', err, `check that ${[validatorSg, ...restoredSgs].join(', ')} exist`));
  }
  const subnetGroup = meta.get(OVERRIDE_KEYS.subnetGroup);
  const sgFix2 = facts.dbSubnetGroupName
    ? `add the override ${OVERRIDE_KEYS.subnetGroup}: ${facts.dbSubnetGroupName} to selection ${sel.selection}`
    : `add the override ${OVERRIDE_KEYS.subnetGroup} naming a DB subnet group in the validators' VPC`;
  if (!subnetGroup) {
    out.push(fail('subnets', 'the restore gets no DB subnet group: it lands in the default VPC', sgFix2));
    return out;
  }
  try {
    const { DBSubnetGroups = [] } = await clients.rds.send(
      new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: subnetGroup }),
    );
    const vpc = DBSubnetGroups[0]?.VpcId;
    out.push(
      vpc && vpc === validatorVpc
        ? pass('subnets', `DB subnet group ${subnetGroup} is in the validators' VPC ${vpc}`)
        : fail(
            'subnets',
            `DB subnet group ${subnetGroup} is in ${vpc ?? 'an unknown VPC'}, the validators in ${validatorVpc ?? 'an unknown VPC'}`,
            sgFix2,
          ),
    );
  } catch (err) {
    out.push(errored('subnets', err, sgFix2));
  }
  return out;
}

async function credentialChecks(
  sel: SelectionView,
  profile: Profile | undefined,
  meta: RestoreMetadata,
  clients: RestoreTestingClients,
): Promise<DoctorCheck[]> {
  const conn = profile?.connection;
  if (!conn) return [skip('credentials', 'no profile connection: only built-in checks connect')];
  const out: DoctorCheck[] = [];
  if (conn.secretArn) {
    try {
      await clients.secrets.send(new DescribeSecretCommand({ SecretId: conn.secretArn }));
      out.push(pass('credentials', `secret ${conn.secretArn} exists`));
    } catch (err) {
      out.push(
        fail(
          'credentials',
          `secret ${conn.secretArn} of profile ${profile?.name} cannot be read: ${reasonOf(err)}`,
          'create the secret (username/password of a read-only validation user) or fix connection.secretArn',
        ),
      );
    }
  }
  if (conn.iamAuth) {
    const on = meta.get(OVERRIDE_KEYS.iamAuth)?.toLowerCase() === 'true';
    out.push(
      on
        ? pass('iam-auth', 'restores enable IAM database authentication')
        : fail(
            'iam-auth',
            `profile ${profile?.name} uses IAM database authentication but restores do not enable it`,
            `add the override ${OVERRIDE_KEYS.iamAuth}: "true" to selection ${sel.selection}`,
          ),
    );
    if (!conn.user)
      out.push(
        fail(
          'iam-auth-user',
          'IAM database authentication needs a database user',
          'set connection.user in the profile',
        ),
      );
  }
  if (!conn.secretArn && !conn.iamAuth)
    out.push(
      fail(
        'credentials',
        `profile ${profile?.name} gives neither a secret nor IAM auth: the validator cannot log in`,
        'set connection.secretArn (a read-only validation user) or connection.iamAuth: true',
      ),
    );
  return out;
}

/** EC2: the restored instance gets an instance profile (SSM needs one); returns the profile's name too. */
export function instanceProfileCheck(
  sel: SelectionView,
  inferred: RestoreMetadata,
  effective: RestoreMetadata,
): DoctorCheck & { profileName?: string } {
  const value = effective.get(OVERRIDE_KEYS.instanceProfile);
  const fix = `add the override ${OVERRIDE_KEYS.instanceProfile}: ${USE_BACKED_UP_VALUE} to selection ${sel.selection}`;
  if (!value)
    return fail('instance-profile', 'restored instances get no instance profile: SSM cannot reach them', fix);
  if (value === USE_BACKED_UP_VALUE) {
    const backedUp = inferred.get(OVERRIDE_KEYS.instanceProfile);
    return backedUp && backedUp !== USE_BACKED_UP_VALUE
      ? {
          ...pass('instance-profile', `restores keep the backed-up instance profile ${backedUp}`),
          profileName: backedUp,
        }
      : fail(
          'instance-profile',
          'the backed-up instance had no instance profile, so UseBackedUpValue gives none: SSM cannot reach it',
          `attach an instance profile with ${SSM_CORE_POLICY} to the source instance, or set the override ${OVERRIDE_KEYS.instanceProfile} to such a profile's name`,
        );
  }
  return { ...pass('instance-profile', `restores get instance profile ${value}`), profileName: value };
}

/** The AWS managed policy the SSM agent needs; any policy allowing SSM_AGENT_ACTION does as well. */
const SSM_CORE_POLICY = 'AmazonSSMManagedInstanceCore';
const AWS_MANAGED_SSM_CORE = /^arn:aws(-[a-z]+)*:iam::aws:policy\/AmazonSSMManagedInstanceCore$/;
/** The call an SSM agent makes to register: without it the instance never shows up as managed. */
const SSM_AGENT_ACTION = 'ssm:UpdateInstanceInformation';

interface PolicyStatement {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
}

/** Whether a policy document (as IAM returns it: URL-encoded JSON) has an Allow for SSM_AGENT_ACTION. */
export function allowsSsmAgent(document: string | undefined): boolean {
  if (!document) return false;
  let parsed: { Statement?: PolicyStatement | readonly PolicyStatement[] };
  try {
    parsed = JSON.parse(decodeURIComponent(document));
  } catch {
    return false;
  }
  const statements = ([] as PolicyStatement[]).concat((parsed.Statement ?? []) as PolicyStatement[]);
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      ([] as string[])
        .concat((st.Action ?? []) as string[])
        // IAM action names are case-insensitive; `*` and `?` are its only wildcards.
        .some((a) =>
          compileGlob(a.toLowerCase().replace(/[[\]{}\\]/g, '\\$&')).test(SSM_AGENT_ACTION.toLowerCase()),
        ),
  );
}

/**
 * EC2: the instance profile's role lets the SSM agent register (the AWS managed
 * AmazonSSMManagedInstanceCore, or a managed or inline policy that allows ssm:UpdateInstanceInformation).
 * Deny statements, boundaries and SCPs are not read: a pass says the role asks for it, not that nothing
 * else takes it away.
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html
 */
export async function ssmRoleCheck(iam: IAMClient, profileName: string): Promise<DoctorCheck> {
  const id = 'ssm-role';
  const fixFor = (role: string) =>
    `attach the AWS managed policy ${SSM_CORE_POLICY} to role ${role} (aws iam attach-role-policy --role-name ${role} --policy-arn arn:aws:iam::aws:policy/${SSM_CORE_POLICY})`;
  try {
    const { InstanceProfile } = await iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: profileName }),
    );
    const role = InstanceProfile?.Roles?.[0]?.RoleName;
    if (!role)
      return fail(
        id,
        `instance profile ${profileName} has no role: SSM cannot reach the restored instance`,
        `add a role with ${SSM_CORE_POLICY} to instance profile ${profileName}`,
      );
    const customer: string[] = [];
    for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName: role }))
      for (const p of page.AttachedPolicies ?? []) {
        // Only AWS's own policy by that name: a customer policy may carry the name and allow anything.
        if (p.PolicyArn && AWS_MANAGED_SSM_CORE.test(p.PolicyArn))
          return pass(id, `role ${role} of instance profile ${profileName} has ${SSM_CORE_POLICY}`);
        if (p.PolicyArn) customer.push(p.PolicyArn);
      }
    for (const arn of customer) {
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
      const { PolicyVersion } = await iam.send(
        new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy?.DefaultVersionId }),
      );
      if (allowsSsmAgent(PolicyVersion?.Document))
        return pass(
          id,
          `role ${role} of instance profile ${profileName} allows ${SSM_AGENT_ACTION} (${arn})`,
        );
    }
    for await (const page of paginateListRolePolicies({ client: iam }, { RoleName: role }))
      for (const name of page.PolicyNames ?? []) {
        const { PolicyDocument } = await iam.send(
          new GetRolePolicyCommand({ RoleName: role, PolicyName: name }),
        );
        if (allowsSsmAgent(PolicyDocument))
          return pass(
            id,
            `role ${role} of instance profile ${profileName} allows ${SSM_AGENT_ACTION} (inline policy ${name})`,
          );
      }
    return fail(
      id,
      `role ${role} of instance profile ${profileName} does not allow ${SSM_AGENT_ACTION}: the SSM agent cannot register, so command and SSM health checks cannot run`,
      fixFor(role),
    );
  } catch (err) {
    return errored(
      id,
      err,
      'grant doctor iam:GetInstanceProfile, iam:ListAttachedRolePolicies, iam:GetPolicy, iam:GetPolicyVersion, iam:ListRolePolicies and iam:GetRolePolicy (read-only)',
    );
  }
}

function recoveryPointCheck(
  sel: SelectionView,
  found: { inWindow?: RecoveryPointView; newest?: RecoveryPointView },
  now: Date,
): DoctorCheck {
  const days = sel.recoveryPoints.selectionWindowDays;
  if (found.inWindow)
    return pass(
      'recovery-point',
      `${found.inWindow.recoveryPointArn} of ${found.inWindow.creationDate.toISOString()}`,
    );
  if (found.newest) {
    const ageDays = (now.getTime() - found.newest.creationDate.getTime()) / 86_400_000;
    const age = Math.ceil(ageDays);
    return fail(
      'recovery-point',
      `the newest recovery point is ${Math.floor(ageDays)} days old, outside the ${days}-day selection window: this resource is silently never tested`,
      `back it up at least every ${days} days (a backup plan rule), or raise recoveryPoints.selectionWindowDays of plan ${sel.plan} to ${age}`,
    );
  }
  return fail(
    'recovery-point',
    `no completed recovery point in the plan's vaults (${sel.recoveryPoints.includeVaults.join(', ')}): this resource is never tested`,
    'add the resource to a backup plan, or include the vault that holds its recovery points',
  );
}

/** Checks one resource of a selection. */
export async function doctorResource(
  sel: SelectionView,
  resourceArn: string,
  ctx: { config: Config; facts: StackFacts; clients: RestoreTestingClients; now: Date },
): Promise<DoctorResource> {
  const checks: DoctorCheck[] = [];
  const profile = matchProfile(ctx.config, {
    resourceType: sel.resourceType,
    sourceResourceArn: resourceArn,
    restoreTestingPlanName: sel.plan,
  });
  checks.push(profileCheck(profile, sel, resourceArn));
  let found: Awaited<ReturnType<typeof latestRecoveryPoint>>;
  try {
    found = await latestRecoveryPoint(ctx.clients.backup, resourceArn, sel, ctx.now);
  } catch (err) {
    checks.push(errored('recovery-point', err, 'check backup:ListRecoveryPointsByResource permissions'));
    return { resourceArn, checks };
  }
  checks.push(recoveryPointCheck(sel, found, ctx.now));
  const rp = found.inWindow;
  if (!rp) {
    checks.push(skip('restore-metadata', 'no recovery point to preview'));
    return { resourceArn, checks };
  }
  let meta: Awaited<ReturnType<typeof restoreMetadata>>;
  try {
    meta = await restoreMetadata(ctx.clients.backup, rp, sel.overrides);
  } catch (err) {
    checks.push(
      errored('restore-metadata', err, 'check backup:GetRestoreTestingInferredMetadata permissions'),
    );
    return { resourceArn, recoveryPointArn: rp.recoveryPointArn, checks };
  }
  if (DATABASE_RESOURCE_TYPES.includes(sel.resourceType as ProtectedResourceType)) {
    checks.push(...(await reachabilityChecks(sel, meta.effective, ctx.facts, ctx.clients)));
    checks.push(...(await credentialChecks(sel, profile, meta.effective, ctx.clients)));
  }
  if (sel.resourceType === 'EC2') {
    const { profileName, ...profile } = instanceProfileCheck(sel, meta.inferred, meta.effective);
    checks.push(profile);
    if (profileName) checks.push(await ssmRoleCheck(ctx.clients.iam, profileName));
  }
  return { resourceArn, recoveryPointArn: rp.recoveryPointArn, checks };
}

export interface DoctorOptions {
  readonly config?: Config;
  readonly fromAccount?: boolean;
  readonly plan?: string;
  readonly selection?: string;
  readonly facts: StackFacts;
  readonly clients: RestoreTestingClients;
  readonly now?: Date;
}

/** Which selections to look at: the config's, else (or with fromAccount) the account's. */
export async function resolveSelections(
  opts: Pick<DoctorOptions, 'config' | 'fromAccount' | 'plan' | 'selection' | 'facts' | 'clients'>,
): Promise<SelectionView[]> {
  const fromConfig = opts.config && !opts.fromAccount ? selectionsFromConfig(opts.config, opts.facts) : [];
  const all = fromConfig.length ? fromConfig : await selectionsFromAccount(opts.clients.backup);
  return all.filter(
    (s) => (!opts.plan || s.plan === opts.plan) && (!opts.selection || s.selection === opts.selection),
  );
}

export async function doctor(opts: DoctorOptions): Promise<DoctorReport> {
  const config = opts.config ?? emptyConfig();
  const now = opts.now ?? new Date();
  const selections = await resolveSelections(opts);
  const out: DoctorSelection[] = [];
  for (const sel of selections) {
    const checks: DoctorCheck[] = [windowCheck(sel)];
    let resources: string[] = [];
    try {
      resources = await resourcesOf(sel, opts.clients.backup, opts.clients.tagging);
      checks.push(
        resources.length
          ? pass(
              'selects-resources',
              `${resources.length} protected resource${resources.length === 1 ? '' : 's'}`,
            )
          : fail(
              'selects-resources',
              `selection ${sel.selection} covers no protected ${sel.resourceType} resource: nothing is ever tested`,
              sel.conditions
                ? 'tag the resources to test as the conditions say, and back them up'
                : 'check the ARNs, and that the resources are backed up (ListProtectedResources)',
            ),
      );
    } catch (err) {
      checks.push(
        errored(
          'selects-resources',
          err,
          'check backup:ListProtectedResources and tag:GetResources permissions',
        ),
      );
    }
    const results: DoctorResource[] = [];
    for (const arn of resources)
      results.push(await doctorResource(sel, arn, { config, facts: opts.facts, clients: opts.clients, now }));
    out.push({
      plan: sel.plan,
      selection: sel.selection,
      resourceType: sel.resourceType,
      source: sel.source,
      checks,
      resources: results,
    });
  }
  const problems = out.some(
    (s) =>
      s.checks.some((c) => c.status === 'fail' || c.status === 'error') ||
      s.resources.some((r) => r.checks.some((c) => c.status === 'fail' || c.status === 'error')),
  );
  return { healthy: out.length > 0 && !problems, selections: out };
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const MARK: Record<DoctorStatus, string> = { pass: 'ok   ', fail: 'FAIL ', skip: 'skip ', error: 'ERROR' };

function printCheck(io: Io, c: DoctorCheck, indent: string) {
  io.out(`${indent}${MARK[c.status]} ${c.id}: ${c.detail}\n`);
  if (c.fix) io.out(`${indent}      fix: ${c.fix}\n`);
}

/**
 * Without a region no check can run: that is the tool failing (exit 3), not a problem of the
 * selections (exit 1) — otherwise every check would report "Region is missing" as a finding.
 */
export async function requireRegion(client: BackupClient): Promise<void> {
  try {
    await client.config.region();
  } catch (err) {
    throw new Error(`no AWS region: pass --region REGION or set AWS_REGION (${reasonOf(err)})`, {
      cause: err,
    });
  }
}

/** `restore-validation doctor [options]`. */
export async function runDoctor(argv: string[], io: Io, clients?: RestoreTestingClients): Promise<number> {
  const cmd = new Command('restore-validation doctor')
    .description('preview every restore testing selection and say whether the validators can do their job')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .option(
      '--config <file>',
      'config file; its restoreTesting section is checked unless --from-account',
      'validation.config.yaml',
    )
    .option('--from-account', 'check the selections deployed in the account instead of the config')
    .option('--plan <name>', 'only this restore testing plan')
    .option('--selection <name>', 'only this selection');
  stackOptions(cmd)
    .option('--profile <name>', 'AWS named profile')
    .option('--region <region>', 'AWS region')
    .option('--json', 'print exactly one JSON object');
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<{
    config: string;
    fromAccount?: boolean;
    plan?: string;
    selection?: string;
    stackName: string;
    securityGroupId?: string;
    dbSubnetGroup?: string;
    profile?: string;
    region?: string;
    json?: boolean;
  }>();
  const config = loadConfigFile(o.config);
  const c = clients ?? restoreTestingClients(o);
  await requireRegion(c.backup);
  const facts = await resolveStackFacts(c.cfn, o, (line) => {
    if (!o.json) io.err(line);
  });
  const report = await doctor({
    config,
    fromAccount: o.fromAccount,
    plan: o.plan,
    selection: o.selection,
    facts,
    clients: c,
  });
  if (report.selections.length === 0) {
    const what =
      o.plan || o.selection
        ? 'matches --plan/--selection'
        : 'is declared in the config or deployed in the account';
    throw new UsageError(`no restore testing selection ${what}: add a restoreTesting section to ${o.config}`);
  }
  if (o.json) io.out(`${JSON.stringify(report)}\n`);
  else {
    for (const s of report.selections) {
      io.out(`plan ${s.plan} / selection ${s.selection} (${s.resourceType}, from the ${s.source})\n`);
      for (const ch of s.checks) printCheck(io, ch, '  ');
      for (const r of s.resources) {
        io.out(`  ${r.resourceArn}\n`);
        for (const ch of r.checks) printCheck(io, ch, '    ');
      }
    }
    io.out(
      report.healthy
        ? '\nhealthy: every selection can be validated\n'
        : '\nproblems found: apply the fixes above\n',
    );
  }
  return report.healthy ? 0 : 1;
}

/** The CLI entry (bin/cli.ts). */
export const run = (argv: string[], io: Io) => runDoctor(argv, io);
