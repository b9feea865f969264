import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateDBSubnetGroupCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allowsSsmAgent, type DoctorReport } from '../../bin/doctor';
import { runCli } from '../support/cli';
import { type Moto, startMoto } from '../support/engines';
import { FakeBackupApi } from '../support/fake-backup';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const DB = `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-prod`;
const BUCKET = 'arn:aws:s3:::media-prod';
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const DAY = 86_400_000;
const BILLING = `arn:aws:rds:${REGION}:${ACCOUNT}:db:billing-prod`;
const MISSING_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:billing-ro-AbCdEf`;
/** A profile whose secret does not exist and that logs in with IAM database auth. */
const BILLING_PROFILE = `  - name: billing-db
    match: { resourceType: RDS, sourceResourceArn: "arn:aws:rds:*:*:db:billing-*" }
    connection: { database: billing, secretArn: "${MISSING_SECRET}", iamAuth: true, user: validator }
    checks:
      - { id: invoices, sql: select count(*) as n from invoices, expect: { n: { min: 1 } } }`;

let moto: Moto;
let fake: FakeBackupApi;
let validatorSg = '';
let prodSg = '';
let secretArn = '';
let volumeArn = '';
const subnetGroup = 'restore-validation-dbs';
const dir = mkdtempSync(join(tmpdir(), 'rv-doctor-'));

const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function writeConfig(restoreTesting: string, profiles = ''): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `version: 1
profiles:
  - name: orders-db
    match: { resourceType: RDS, sourceResourceArn: "arn:aws:rds:*:*:db:orders-*" }
    connection: { database: orders, secretArn: "${secretArn}" }
    checks:
      - { id: orders, sql: select count(*) as n from orders, expect: { n: { min: 1 } } }
  - name: app-volumes
    match: { resourceType: EBS }
    checks:
      - { id: fstab, paths: [/etc/fstab] }
  - name: app-servers
    match: { resourceType: EC2 }
    checks:
      - { id: boots, consoleOutput: {} }
${profiles}
${
  restoreTesting
    ? `restoreTesting:
  plans:
    - name: nightly
      recoveryPoints: { selectionWindowDays: 7 }
      selections:
${restoreTesting}`
    : ''
}
`,
  );
  return file;
}

async function doctor(args: string[]): Promise<{ code: number; report: DoctorReport; err: string }> {
  const r = await runCli(['doctor', ...args, '--json', '--region', REGION]);
  return {
    code: r.code,
    report: r.out ? (JSON.parse(r.out) as DoctorReport) : { healthy: false, selections: [] },
    err: r.err,
  };
}

function checksOf(report: DoctorReport, selection: string) {
  const s = report.selections.find((x) => x.selection === selection);
  return {
    selection: s?.checks ?? [],
    resource: s?.resources.flatMap((r) => r.checks) ?? [],
  };
}

beforeAll(async () => {
  moto = await startMoto();
  fake = new FakeBackupApi();
  await fake.start();
  vi.stubEnv('AWS_ENDPOINT_URL', moto.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_BACKUP', fake.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_REGION', REGION);

  const ec2 = new EC2Client({ endpoint: moto.endpoint, region: REGION, credentials: creds });
  const rds = new RDSClient({ endpoint: moto.endpoint, region: REGION, credentials: creds });
  const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, region: REGION, credentials: creds });
  const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = Vpc?.VpcId ?? '';
  const subnets = await Promise.all(
    ['a', 'b'].map((az, i) =>
      ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.20.${i}.0/24`,
          AvailabilityZone: `${REGION}${az}`,
        }),
      ),
    ),
  );
  validatorSg =
    (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'validators', Description: 'v', VpcId: vpcId }),
      )
    ).GroupId ?? '';
  prodSg =
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'prod-db', Description: 'p', VpcId: vpcId })))
      .GroupId ?? '';
  // The construct's group admits itself on the database ports; the production group admits only the app.
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: validatorSg,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: validatorSg }] },
      ],
    }),
  );
  await rds.send(
    new CreateDBSubnetGroupCommand({
      DBSubnetGroupName: subnetGroup,
      DBSubnetGroupDescription: 'restores',
      SubnetIds: subnets.map((s) => s.Subnet?.SubnetId ?? ''),
    }),
  );
  secretArn =
    (
      await secrets.send(
        new CreateSecretCommand({ Name: 'orders-ro', SecretString: '{"username":"ro","password":"x"}' }),
      )
    ).ARN ?? '';
  const vol = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: `${REGION}a`,
      Size: 1,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'restore-test', Value: 'nightly' }] }],
    }),
  );
  volumeArn = `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/${vol.VolumeId}`;
  ec2.destroy();
  rds.destroy();
  secrets.destroy();

  const now = Date.now();
  fake.restoreTesting
    .addRecoveryPoint({
      RecoveryPointArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-orders`,
      ResourceArn: DB,
      ResourceType: 'RDS',
      BackupVaultName: 'main',
      CreationDate: new Date(now - DAY),
      InferredMetadata: {
        dbInstanceIdentifier: 'orders-prod',
        engine: 'postgres',
        vpcSecurityGroupIds: JSON.stringify([prodSg]),
        dbSubnetGroupName: 'default',
      },
    })
    .addRecoveryPoint({
      RecoveryPointArn: `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:media-old`,
      ResourceArn: BUCKET,
      ResourceType: 'S3',
      BackupVaultName: 'main',
      CreationDate: new Date(now - 40 * DAY),
    })
    .addRecoveryPoint({
      RecoveryPointArn: `arn:aws:ec2:${REGION}::image/ami-0abc`,
      ResourceArn: INSTANCE,
      ResourceType: 'EC2',
      BackupVaultName: 'main',
      CreationDate: new Date(now - DAY),
      InferredMetadata: { instanceType: 't3.micro', subnetId: subnets[0]?.Subnet?.SubnetId ?? '' },
    })
    .addRecoveryPoint({
      RecoveryPointArn: `arn:aws:ec2:${REGION}::snapshot/snap-0abc`,
      ResourceArn: volumeArn,
      ResourceType: 'EBS',
      BackupVaultName: 'main',
      CreationDate: new Date(now - DAY),
      InferredMetadata: { availabilityZone: `${REGION}a`, volumeType: 'gp3' },
    });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await fake?.stop();
  await moto?.stop();
});

const facts = () => ['--security-group-id', validatorSg, '--db-subnet-group', subnetGroup];

describe('restore-validation doctor', () => {
  it('is healthy (exit 0) when the stack fills the overrides: database reachable, secret readable, profiles match', async () => {
    const config =
      writeConfig(`        - { name: orders, resourceType: RDS, resourceArns: ["${DB}"], validationWindowHours: 2 }
        - { name: volumes, resourceType: EBS, conditions: { stringEquals: { restore-test: nightly } }, validationWindowHours: 2 }`);
    const { code, report } = await doctor(['--config', config, ...facts()]);
    const orders = checksOf(report, 'orders');
    expect(orders.resource.map((c) => [c.id, c.status])).toEqual([
      ['profile', 'pass'],
      ['recovery-point', 'pass'],
      ['reachable', 'pass'],
      ['subnets', 'pass'],
      ['credentials', 'pass'],
    ]);
    // Tag conditions select the tagged volume through the tagging API.
    expect(
      report.selections.find((s) => s.selection === 'volumes')?.resources.map((r) => r.resourceArn),
    ).toEqual([volumeArn]);
    expect(report.healthy).toBe(true);
    expect(code).toBe(0);
  });

  it('finds an unreachable database (restored into the production security group) and names the override', async () => {
    fake.restoreTesting.plans.clear();
    await createAccountSelection('orders_wrong_sg', 'RDS', [DB], {
      dbSubnetGroupName: subnetGroup,
      vpcSecurityGroupIds: JSON.stringify([prodSg]),
    });
    const { code, report } = await doctor(['--from-account', '--config', writeConfig(''), ...facts()]);
    const reachable = checksOf(report, 'orders_wrong_sg').resource.find((c) => c.id === 'reachable');
    expect(reachable?.status).toBe('fail');
    expect(reachable?.detail).toContain(prodSg);
    expect(reachable?.fix).toContain(`vpcSecurityGroupIds: '["${validatorSg}"]'`);
    expect(report.healthy).toBe(false);
    expect(code).toBe(1);
  });

  it('finds EC2 restores without an instance profile and names UseBackedUpValue', async () => {
    fake.restoreTesting.plans.clear();
    await createAccountSelection('servers', 'EC2', [INSTANCE], {});
    const { code, report } = await doctor(['--from-account', '--config', writeConfig(''), ...facts()]);
    const check = checksOf(report, 'servers').resource.find((c) => c.id === 'instance-profile');
    expect(check).toMatchObject({ status: 'fail' });
    expect(check?.fix).toContain('iamInstanceProfileName: UseBackedUpValue');
    expect(code).toBe(1);
  });

  it('finds a resource with no recovery point inside the selection window (never tested)', async () => {
    const config = writeConfig(
      `        - { name: media, resourceType: S3, resourceArns: ["${BUCKET}"] }`,
      `  - name: media
    match: { resourceType: S3 }
    checks:
      - { id: not-empty, minObjects: 1 }`,
    );
    const { code, report } = await doctor(['--config', config, ...facts()]);
    const rp = checksOf(report, 'media').resource.find((c) => c.id === 'recovery-point');
    expect(rp?.status).toBe('fail');
    expect(rp?.detail).toMatch(/40 days old, outside the 7-day selection window/);
    expect(rp?.fix).toMatch(/selectionWindowDays of plan nightly to 41/);
    expect(code).toBe(1);
  });

  it('finds a validation window shorter than the validator needs', async () => {
    const config = writeConfig(
      `        - { name: volumes, resourceType: EBS, resourceArns: ["${volumeArn}"], validationWindowHours: 1 }`,
    );
    const { code, report } = await doctor(['--config', config, ...facts()]);
    const window = checksOf(report, 'volumes').selection.find((c) => c.id === 'validation-window');
    expect(window?.status).toBe('fail');
    expect(window?.fix).toBe('set validationWindowHours: 2 (or more) on selection volumes');
    expect(code).toBe(1);
  });

  it('finds a resource no profile matches', async () => {
    const config = writeConfig(`        - { name: media, resourceType: S3, resourceArns: ["${BUCKET}"] }`);
    const { code, report } = await doctor(['--config', config, ...facts()]);
    const profile = checksOf(report, 'media').resource.find((c) => c.id === 'profile');
    expect(profile?.status).toBe('fail');
    expect(profile?.fix).toContain(`match: { resourceType: S3, sourceResourceArn: "${BUCKET}" }`);
    expect(code).toBe(1);
  });

  it('finds a secret that cannot be read and IAM auth the deployed selection does not enable', async () => {
    fake.restoreTesting.addRecoveryPoint({
      RecoveryPointArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-billing`,
      ResourceArn: BILLING,
      ResourceType: 'RDS',
      BackupVaultName: 'main',
      CreationDate: new Date(Date.now() - DAY),
      InferredMetadata: { dbInstanceIdentifier: 'billing-prod', engine: 'postgres' },
    });
    fake.restoreTesting.plans.clear();
    await createAccountSelection('billing_by_hand', 'RDS', [BILLING], {
      dbSubnetGroupName: subnetGroup,
      vpcSecurityGroupIds: JSON.stringify([validatorSg]),
    });
    const config = writeConfig('', BILLING_PROFILE);
    const { code, report } = await doctor(['--from-account', '--config', config, ...facts()]);
    const checks = checksOf(report, 'billing_by_hand').resource;
    expect(checks.find((c) => c.id === 'reachable')?.status).toBe('pass');
    const secret = checks.find((c) => c.id === 'credentials');
    expect(secret?.status).toBe('fail');
    expect(secret?.detail).toContain(MISSING_SECRET);
    expect(checks.find((c) => c.id === 'iam-auth')).toMatchObject({
      status: 'fail',
      fix: 'add the override enableIamDatabaseAuthentication: "true" to selection billing_by_hand',
    });
    expect(code).toBe(1);

    // Declared in the config instead, the selection gets the override from the profile's iamAuth.
    const declared = await doctor([
      '--config',
      writeConfig(
        `        - { name: billing, resourceType: RDS, resourceArns: ["${BILLING}"], validationWindowHours: 2 }`,
        BILLING_PROFILE,
      ),
      ...facts(),
    ]);
    expect(checksOf(declared.report, 'billing').resource.find((c) => c.id === 'iam-auth')?.status).toBe(
      'pass',
    );
  });

  it('uses the project retry strategy: a Backup API that fails four times in a row still answers', async () => {
    fake.fail('ListRecoveryPointsByResource', 503, 4);
    const config = writeConfig(
      `        - { name: orders, resourceType: RDS, resourceArns: ["${DB}"], validationWindowHours: 2 }`,
    );
    const { code, report } = await doctor(['--config', config, ...facts()]);
    // The SDK's default of 3 attempts would have made this an ERROR; sdkClientConfig gives 5.
    expect(fake.faults.find((f) => f.operation === 'ListRecoveryPointsByResource')?.times).toBe(0);
    expect(checksOf(report, 'orders').resource.find((c) => c.id === 'recovery-point')?.status).toBe('pass');
    expect(code).toBe(0);
  });

  it('calls AWS as the named --profile, as aws-cli does (the environment keys no longer apply)', async () => {
    const config = writeConfig(
      `        - { name: orders, resourceType: RDS, resourceArns: ["${DB}"], validationWindowHours: 2 }`,
    );
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-such-aws-config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-such-aws-credentials'));
    try {
      const { code, report } = await doctor([
        '--config',
        config,
        '--profile',
        'rv-no-such-profile',
        ...facts(),
      ]);
      const rp = checksOf(report, 'orders').resource.find((c) => c.id === 'recovery-point');
      expect(rp?.status).toBe('error');
      expect(rp?.detail).toContain('CredentialsProviderError');
      expect(code).toBe(1);
    } finally {
      vi.stubEnv('AWS_CONFIG_FILE', undefined);
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', undefined);
    }
  });

  it('exits 3, not 1, without a region: the tool failed, no selection was judged', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-such-aws-config'));
    try {
      const config = writeConfig(
        `        - { name: orders, resourceType: RDS, resourceArns: ["${DB}"], validationWindowHours: 2 }`,
      );
      const r = await runCli(['doctor', '--config', config, ...facts()]);
      expect(r.code).toBe(3);
      expect(r.err).toContain('no AWS region: pass --region REGION or set AWS_REGION');
      expect(r.out).toBe('');
    } finally {
      vi.stubEnv('AWS_REGION', REGION);
    }
  });

  it('exits 2 for usage errors: an unknown flag, or no selection to look at', async () => {
    expect((await runCli(['doctor', '--bogus'])).code).toBe(2);
    const none = await runCli(['doctor', '--config', writeConfig(''), '--plan', 'nope', ...facts()]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no restore testing selection matches --plan/);
  });

  it('prints each problem with its fix for people', async () => {
    const config = writeConfig(`        - { name: media, resourceType: S3, resourceArns: ["${BUCKET}"] }`);
    const r = await runCli(['doctor', '--config', config, ...facts()]);
    expect(r.out).toMatch(/FAIL {2}recovery-point: .*\n {10}fix: back it up/);
    expect(r.out).toContain('problems found');
  });

  it('reads the instance profile a restored EC2 instance gets and finds a role the SSM agent cannot use', async () => {
    const iam = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: creds });
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const profileWith = async (name: string, policy: (role: string) => Promise<unknown>) => {
      await iam.send(new CreateRoleCommand({ RoleName: `${name}-role`, AssumeRolePolicyDocument: trust }));
      await policy(`${name}-role`);
      await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
      await iam.send(
        new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: `${name}-role` }),
      );
    };
    // A customer managed policy is read, not trusted by its name.
    const policy = async (name: string, Action: string) =>
      (
        await iam.send(
          new CreatePolicyCommand({
            PolicyName: name,
            PolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action, Resource: '*' }],
            }),
          }),
        )
      ).Policy?.Arn;
    const agent = await policy('ssm-agent', 'ssm:UpdateInstanceInformation');
    const lookalike = await policy('AmazonSSMManagedInstanceCore', 's3:GetObject');
    await profileWith('web-managed', (role) =>
      iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: agent })),
    );
    await profileWith('web-inline', (role) =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: 'agent',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['ssm:Update*', 'ssmmessages:*'], Resource: '*' }],
          }),
        }),
      ),
    );
    await profileWith('web-s3-only', async (role) => {
      await iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: lookalike }));
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: 'data',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
              { Effect: 'Deny', Action: 'ssm:*', Resource: '*' },
            ],
          }),
        }),
      );
    });
    iam.destroy();
    const instances = ['web-managed', 'web-inline', 'web-s3-only'].map((profile, i) => {
      const arn = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0aaaaaaaaaaaaaaa${i}`;
      fake.restoreTesting.addRecoveryPoint({
        RecoveryPointArn: `arn:aws:ec2:${REGION}::image/ami-0web${i}`,
        ResourceArn: arn,
        ResourceType: 'EC2',
        BackupVaultName: 'main',
        CreationDate: new Date(Date.now() - DAY),
        InferredMetadata: { instanceType: 't3.micro', iamInstanceProfileName: profile },
      });
      return arn;
    });
    fake.restoreTesting.plans.clear();
    await createAccountSelection('web', 'EC2', instances, { iamInstanceProfileName: 'UseBackedUpValue' });
    const { code, report } = await doctor(['--from-account', '--config', writeConfig(''), ...facts()]);
    const byInstance = new Map(
      report.selections
        .find((s) => s.selection === 'web')
        ?.resources.map((r) => [r.resourceArn, r.checks.find((c) => c.id === 'ssm-role')]),
    );
    expect(byInstance.get(instances[0] ?? '')).toMatchObject({ status: 'pass' });
    expect(byInstance.get(instances[0] ?? '')?.detail).toContain(
      `allows ssm:UpdateInstanceInformation (${agent})`,
    );
    expect(byInstance.get(instances[1] ?? '')).toMatchObject({ status: 'pass' });
    expect(byInstance.get(instances[1] ?? '')?.detail).toContain('inline policy agent');
    const bad = byInstance.get(instances[2] ?? '');
    expect(bad).toMatchObject({ status: 'fail' });
    expect(bad?.detail).toContain(
      'role web-s3-only-role of instance profile web-s3-only does not allow ssm:UpdateInstanceInformation',
    );
    expect(bad?.fix).toContain('attach-role-policy --role-name web-s3-only-role');
    expect(code).toBe(1);
  });

  it('reads IAM actions with wildcards, case-insensitively, and only from Allow statements', () => {
    const doc = (Statement: unknown) =>
      encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement }));
    expect(allowsSsmAgent(doc({ Effect: 'Allow', Action: '*', Resource: '*' }))).toBe(true);
    expect(allowsSsmAgent(doc([{ Effect: 'Allow', Action: ['SSM:updateinstance?nformation'] }]))).toBe(true);
    expect(allowsSsmAgent(doc([{ Effect: 'Allow', Action: ['ssm:Get*', 'ssm:Describe*'] }]))).toBe(false);
    expect(allowsSsmAgent(doc([{ Effect: 'Deny', Action: 'ssm:*' }]))).toBe(false);
    expect(allowsSsmAgent(doc({ Effect: 'Allow', Action: 'ssm:[U]pdate*' }))).toBe(false);
    expect(allowsSsmAgent('not json')).toBe(false);
    expect(allowsSsmAgent(undefined)).toBe(false);
  });
});

async function createAccountSelection(
  name: string,
  type: string,
  arns: string[],
  overrides: Record<string, string>,
): Promise<void> {
  const { BackupClient, CreateRestoreTestingPlanCommand, CreateRestoreTestingSelectionCommand } =
    await import('@aws-sdk/client-backup');
  const backup = new BackupClient({ endpoint: fake.endpoint, region: REGION, credentials: creds });
  if (!fake.restoreTesting.plans.has('nightly'))
    await backup.send(
      new CreateRestoreTestingPlanCommand({
        RestoreTestingPlan: {
          RestoreTestingPlanName: 'nightly',
          ScheduleExpression: 'cron(0 1 ? * * *)',
          RecoveryPointSelection: {
            IncludeVaults: ['*'],
            SelectionWindowDays: 7,
            Algorithm: 'LATEST_WITHIN_WINDOW',
          },
        },
      }),
    );
  await backup.send(
    new CreateRestoreTestingSelectionCommand({
      RestoreTestingPlanName: 'nightly',
      RestoreTestingSelection: {
        RestoreTestingSelectionName: name,
        ProtectedResourceType: type,
        IamRoleArn: `arn:aws:iam::${ACCOUNT}:role/restore`,
        ProtectedResourceArns: arns,
        RestoreMetadataOverrides: overrides,
        ValidationWindowHours: 2,
      },
    }),
  );
  backup.destroy();
}
