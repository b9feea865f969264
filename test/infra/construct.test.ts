import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  App,
  Duration,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  type aws_iam as iam,
  Stack,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { cdkBundlingFields, ESM_REQUIRE_BANNER, esbuildOptions, PROJECT_ROOT } from '../../infra/bundling';
import { PATH_CHECK_FILE, pathCheckBundleCommand } from '../../infra/constructs/file-system-helper';
import { nagFlatten } from '../../infra/nag';
import {
  BUNDLED_CONFIG_FILE,
  RestoreValidation,
  type RestoreValidationProps,
} from '../../infra/restore-validation';
import { parseConfig } from '../../shared/config';
import { bundlePathCheck } from '../../shared/files/path-check/bundle';
import { VALIDATOR_TYPES, type ValidatorType } from '../../shared/resource-types';

const FIXTURES = join(PROJECT_ROOT, 'test', 'infra', 'fixtures');
const FUNCTIONS = join(FIXTURES, 'functions');
const VALID_CONFIG = join(FIXTURES, 'valid.config.yaml');
const PLAN = 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d';

function build(
  props: RestoreValidationProps = {},
  configure?: (stack: Stack) => Partial<RestoreValidationProps>,
) {
  // Unit tests skip bundling: the stand-in handlers only need to exist.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const construct = new RestoreValidation(stack, 'RV', {
    configPath: VALID_CONFIG,
    functionsDir: FUNCTIONS,
    ...props,
    ...configure?.(stack),
  });
  return { app, stack, construct, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string };

/** Every statement of the policies attached to a role. */
function statementsOf(template: Template, stack: Stack, role: iam.IRole): Statement[] {
  const roleRef = stack.resolve(role.roleName);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement): string[] => ([] as string[]).concat(s.Action);
const resourcesOf = (s: Statement): unknown[] => ([] as unknown[]).concat(s.Resource);

describe('RestoreValidation', () => {
  let t: ReturnType<typeof build>;
  beforeAll(() => {
    t = build();
  });

  it('creates one rule per validator type matching COMPLETED restore jobs of that type', () => {
    for (const [type, resourceTypes] of [
      ['rds', ['RDS']],
      ['aurora', ['Aurora']],
      ['ebs', ['EBS']],
      ['ec2', ['EC2']],
      ['s3', ['S3']],
      ['efs', ['EFS']],
      ['fsx', ['FSx']],
      ['documentdb', ['DocumentDB']],
      ['neptune', ['Neptune']],
    ] as const) {
      const rule = t.construct.rules[type];
      expect(rule, type).toBeDefined();
      const id = t.stack.getLogicalId(rule?.node.defaultChild as never);
      t.template.templateMatches({
        Resources: {
          [id]: {
            Properties: {
              EventPattern: {
                source: ['aws.backup'],
                'detail-type': ['Restore Job State Change'],
                detail: { status: ['COMPLETED'], resourceType: resourceTypes },
              },
            },
          },
        },
      });
    }
  });

  it('matches both DynamoDB and DynamoDB.FullyManaged with the dynamodb rule', () => {
    t.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: { status: ['COMPLETED'], resourceType: ['DynamoDB', 'DynamoDB.FullyManaged'] },
      },
    });
    const rules = t.template.findResources('AWS::Events::Rule');
    expect(Object.keys(rules)).toHaveLength(VALIDATOR_TYPES.length);
  });

  it('matches every plan when no plan filter is given', () => {
    for (const rule of Object.values(t.template.findResources('AWS::Events::Rule'))) {
      expect(rule.Properties.EventPattern.detail.restoreTestingPlanArn).toBeUndefined();
    }
  });

  it('adds the plan filter to every rule when restoreTestingPlanArns is given', () => {
    const filtered = build({ restoreTestingPlanArns: [PLAN] });
    const rules = Object.values(filtered.template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(VALIDATOR_TYPES.length);
    for (const rule of rules)
      expect(rule.Properties.EventPattern.detail.restoreTestingPlanArn).toEqual([PLAN]);
  });

  it('targets the type Lambda with retries, a maximum event age and the encrypted DLQ', () => {
    const fnArn = t.stack.resolve(t.construct.functions.rds?.functionArn);
    const dlqArn = t.stack.resolve(t.construct.dlq.queueArn);
    t.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { resourceType: ['RDS'] } },
      Targets: [
        Match.objectLike({
          Arn: fnArn,
          DeadLetterConfig: { Arn: dlqArn },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
  });

  it('lets only its rule invoke each validator', () => {
    for (const type of VALIDATOR_TYPES) {
      const fnArn = t.stack.resolve(t.construct.functions[type]?.functionArn);
      const ruleArn = t.stack.resolve(t.construct.rules[type]?.ruleArn);
      t.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: fnArn,
        Principal: 'events.amazonaws.com',
        SourceArn: ruleArn,
      });
    }
  });

  it('sends failed async invocations to the DLQ after the configured retries', () => {
    const dlqArn = t.stack.resolve(t.construct.dlq.queueArn);
    const configs = Object.values(t.template.findResources('AWS::Lambda::EventInvokeConfig'));
    expect(configs).toHaveLength(VALIDATOR_TYPES.length);
    for (const c of configs) {
      expect(c.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 7200,
        DestinationConfig: { OnFailure: { Destination: dlqArn } },
      });
    }
  });

  it('encrypts the DLQ, enforces TLS on it and parks messages the consumer cannot process', () => {
    const dlqId = t.stack.getLogicalId(t.construct.dlq.node.defaultChild as never);
    const parkingArn = t.stack.resolve(t.construct.parkingQueue.queueArn);
    t.template.templateMatches({
      Resources: {
        [dlqId]: {
          Properties: {
            SqsManagedSseEnabled: true,
            RedrivePolicy: { deadLetterTargetArn: parkingArn, maxReceiveCount: 5 },
          },
        },
      },
    });
    t.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [t.stack.resolve(t.construct.dlq.queueUrl)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    for (const q of Object.values(t.template.findResources('AWS::SQS::Queue')))
      expect(q.Properties.SqsManagedSseEnabled).toBe(true);
  });

  it('drains the DLQ with the consumer, reporting batch item failures', () => {
    t.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: t.stack.resolve(t.construct.dlq.queueArn),
      FunctionName: t.stack.resolve(t.construct.dlqConsumer.functionName),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const consumer = statementsOf(t.template, t.stack, t.construct.dlqConsumer.role as iam.IRole);
    const actions = consumer.flatMap(actionsOf);
    expect(actions).toEqual(
      expect.arrayContaining([
        'backup:DescribeRestoreJob',
        'backup:PutRestoreValidationResult',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
      ]),
    );
    expect(actions).not.toContain('backup:GetRestoreJobMetadata');
  });

  it('creates the idempotency table in the Powertools layout, encrypted, with PITR', () => {
    t.template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('runs every function on nodejs24.x arm64 with the bundled config and the idempotency table', () => {
    const tableRef = t.stack.resolve(t.construct.idempotencyTable.tableName);
    for (const type of VALIDATOR_TYPES) {
      const id = t.stack.getLogicalId(t.construct.functions[type]?.node.defaultChild as never);
      t.template.templateMatches({
        Resources: {
          [id]: {
            Properties: {
              Runtime: 'nodejs24.x',
              Architectures: ['arm64'],
              Handler: 'index.handler',
              Environment: {
                Variables: Match.objectLike({
                  RESTORE_VALIDATION_CONFIG: `/var/task/${BUNDLED_CONFIG_FILE}`,
                  IDEMPOTENCY_TABLE_NAME: tableRef,
                }),
              },
            },
          },
        },
      });
    }
    t.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      FunctionName: Match.absent(),
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'restore-validation-dlq' }) },
    });
  });

  it('grants every validator the Backup verdict calls and no wildcard action', () => {
    for (const type of VALIDATOR_TYPES) {
      const statements = statementsOf(t.template, t.stack, t.construct.roles[type] as iam.IRole);
      const actions = statements.flatMap(actionsOf);
      expect(actions, type).toEqual(
        expect.arrayContaining([
          'backup:DescribeRestoreJob',
          'backup:GetRestoreJobMetadata',
          'backup:PutRestoreValidationResult',
        ]),
      );
      for (const a of actions) expect(a, `${type}: ${a}`).not.toMatch(/\*/);
      // Resource * only for actions that have no resource-level permissions.
      const starOnly = statements.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf);
      for (const a of starOnly)
        expect(a, `${type}: ${a} on *`).toMatch(
          /^(backup:(DescribeRestoreJob|GetRestoreJobMetadata|PutRestoreValidationResult)|ec2:Describe\w+|ssm:(DescribeInstanceInformation|GetCommandInvocation)|fsx:\w+|rds:DescribeOrderableDBInstanceOptions)$/,
        );
    }
  });

  it('scopes per-type data access to restore-test resources and what the config names', () => {
    const s3 = statementsOf(t.template, t.stack, t.construct.roles.s3 as iam.IRole);
    const s3Objects = s3.find((s) => actionsOf(s).includes('s3:GetObject'));
    expect(JSON.stringify(s3Objects?.Resource)).toContain(':s3:::awsbackup-restore-test-*/*');
    expect(JSON.stringify(s3Objects?.Resource)).toContain(':s3:::media-*/*');
    // Other validators cannot read buckets.
    expect(
      statementsOf(t.template, t.stack, t.construct.roles.rds as iam.IRole).flatMap(actionsOf),
    ).not.toContain('s3:GetObject');

    const rds = statementsOf(t.template, t.stack, t.construct.roles.rds as iam.IRole);
    const secrets = rds.find((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(secrets?.Resource).toEqual([
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-reader',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-reader-??????',
    ]);
    // Secrets named for RDS are not readable by the S3 validator.
    expect(s3.flatMap(actionsOf)).not.toContain('secretsmanager:GetSecretValue');

    const aurora = statementsOf(t.template, t.stack, t.construct.roles.aurora as iam.IRole);
    const connect = aurora.find((s) => actionsOf(s).includes('rds-db:connect'));
    expect(JSON.stringify(connect?.Resource)).toContain(':dbuser:*/validator');
    const create = aurora.find((s) => actionsOf(s).includes('rds:AddTagsToResource'));
    expect(create?.Condition).toEqual({ Null: { 'aws:RequestTag/restore-validation:created-by': 'false' } });
    for (const type of ['aurora', 'documentdb', 'neptune'] as const) {
      const orderable = statementsOf(t.template, t.stack, t.construct.roles[type] as iam.IRole).find((s) =>
        actionsOf(s).includes('rds:DescribeOrderableDBInstanceOptions'),
      );
      expect(orderable?.Resource, type).toBe('*');
    }
    // CreateDBInstance is also authorized on the groups the instance uses, in a tagged request only.
    const groups = aurora.find((s) => s.Sid === 'CreateTemporaryInstanceWithClusterGroups');
    expect(JSON.stringify(groups?.Resource)).toContain(':pg:*');
    expect(JSON.stringify(groups?.Resource)).toContain(':og:*');
    expect(JSON.stringify(groups?.Resource)).toContain(':subgrp:*');
    expect(groups?.Condition).toEqual({ Null: { 'aws:RequestTag/restore-validation:created-by': 'false' } });
    expect(groups?.Action).toBe('rds:CreateDBInstance');
    const del = aurora.find((s) => actionsOf(s).includes('rds:DeleteDBInstance'));
    expect(del?.Condition).toEqual({ Null: { 'aws:ResourceTag/restore-validation:created-by': 'false' } });

    const ddb = statementsOf(t.template, t.stack, t.construct.roles.dynamodb as iam.IRole);
    const tables = ddb.find((s) => actionsOf(s).includes('dynamodb:Scan'));
    expect(JSON.stringify(tables?.Resource)).toContain('table/awsbackup-restore-test-*');
    expect(JSON.stringify(tables?.Resource)).toContain(
      'arn:aws:dynamodb:us-east-1:123456789012:table/sessions',
    );
    const invoke = ddb.find((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(invoke?.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:sessions-invariants');

    const ec2Role = statementsOf(t.template, t.stack, t.construct.roles.ec2 as iam.IRole);
    const send = ec2Role.find((s) => s.Sid === 'RunCommandOnRestoredInstances');
    expect(send?.Condition).toEqual({ Null: { 'ssm:resourceTag/awsbackup-restore-test': 'false' } });
  });

  it('keeps validators outside a VPC and prints no DB overrides when no vpc is given', () => {
    expect(t.construct.securityGroup).toBeUndefined();
    for (const fn of Object.values(t.template.findResources('AWS::Lambda::Function')))
      expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(
      Object.keys(t.template.findOutputs('*')).some((k) => k.includes('DatabaseRestoreMetadataOverrides')),
    ).toBe(false);
  });

  it('puts only the database validators in the VPC and prints the selection overrides', () => {
    const v = build({}, (stack) => ({ vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) }));
    const sg = v.construct.securityGroup;
    expect(sg).toBeDefined();
    const sgId = v.stack.resolve(sg?.securityGroupId);
    for (const type of VALIDATOR_TYPES) {
      const id = v.stack.getLogicalId(v.construct.functions[type]?.node.defaultChild as never);
      const fn = v.template.toJSON().Resources[id];
      if (['rds', 'aurora', 'documentdb', 'neptune'].includes(type))
        expect(fn.Properties.VpcConfig.SecurityGroupIds, type).toEqual([sgId]);
      else expect(fn.Properties.VpcConfig, type).toBeUndefined();
    }
    v.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: sgId,
    });
    const outputs = v.template.findOutputs('*');
    const overrides = Object.entries(outputs).find(([k]) =>
      k.includes('DatabaseRestoreMetadataOverrides'),
    )?.[1];
    const rendered = JSON.stringify(overrides?.Value);
    expect(rendered).toContain('vpcSecurityGroupIds');
    expect(rendered).toContain('dbSubnetGroupName');
    expect(rendered).toContain('enableIamDatabaseAuthentication');
    expect(rendered).toContain(JSON.stringify(sgId).slice(1, -1));
    v.template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.anyValue() });
    // The EBS helper flow comes with a VPC and is wired to the EBS validator.
    expect(v.construct.ebsHelper).toBeDefined();
    const ebsId = v.stack.getLogicalId(v.construct.functions.ebs?.node.defaultChild as never);
    expect(Object.keys(v.template.toJSON().Resources[ebsId].Properties.Environment.Variables)).toContain(
      'EBS_STATE_MACHINE_ARN',
    );
    const ebsActions = statementsOf(v.template, v.stack, v.construct.roles.ebs as iam.IRole).flatMap(
      actionsOf,
    );
    expect(ebsActions).toContain('states:StartExecution');
  });

  it('lets the steps that post deferred verdicts (EBS flow, S3 merge) record evidence like the validators', () => {
    const v = build({ dryRun: true }, (stack) => ({
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }),
      evidence: {
        bucket: s3.Bucket.fromBucketName(stack, 'Ev', 'evidence-bucket'),
        table: dynamodb.Table.fromTableName(stack, 'EvT', 'evidence-index'),
        prefix: 'evidence/',
      },
    }));
    const steps = [v.construct.ebsHelper?.stepsFunction, v.construct.s3DistributedMap?.mergeFunction];
    for (const fn of steps) {
      expect(fn).toBeDefined();
      const id = v.stack.getLogicalId(fn?.node.defaultChild as never);
      const vars = v.template.toJSON().Resources[id].Properties.Environment.Variables;
      expect(vars).toMatchObject({
        EVIDENCE_BUCKET: 'evidence-bucket',
        EVIDENCE_TABLE: 'evidence-index',
        EVIDENCE_PREFIX: 'evidence/',
        ALARM_TOPIC_ARN: expect.anything(),
        RESTORE_VALIDATION_VERSION: expect.any(String),
        RESTORE_VALIDATION_DRY_RUN: 'true',
      });
      const statements = statementsOf(v.template, v.stack, fn?.role as iam.IRole);
      const bySid = (sid: string) => statements.find((st) => st.Sid === sid);
      expect(actionsOf(bySid('WriteEvidence') as Statement)).toEqual(['s3:PutObject']);
      expect(JSON.stringify(bySid('WriteEvidence')?.Resource)).toContain('evidence-bucket/evidence/*');
      expect(actionsOf(bySid('IndexEvidence') as Statement)).toEqual(['dynamodb:PutItem']);
      expect(actionsOf(bySid('PublishNotifications') as Statement)).toEqual(['sns:Publish']);
      // reading the job again for the record
      const actions = statements.flatMap(actionsOf);
      expect(actions).toContain('backup:DescribeRestoreJob');
      expect(actions).toContain('backup:GetRestoreJobMetadata');
      // one statement per Sid in each role: IAM refuses duplicates
      const sids = statements.map((st) => st.Sid).filter(Boolean);
      expect(new Set(sids).size).toBe(sids.length);
    }
  });

  it('leaves the EBS helper out without a VPC', () => {
    expect(t.construct.ebsHelper).toBeUndefined();
  });

  it('wires the S3 Distributed Map into the S3 validator by default, and leaves it out when told', () => {
    expect(t.construct.s3DistributedMap).toBeDefined();
    expect(
      build({ resourceTypes: ['s3'], s3DistributedMap: { enabled: false } }).construct.s3DistributedMap,
    ).toBeUndefined();
    const withMap = build({ resourceTypes: ['s3'] });
    expect(withMap.construct.s3DistributedMap).toBeDefined();
    const id = withMap.stack.getLogicalId(withMap.construct.functions.s3?.node.defaultChild as never);
    expect(Object.keys(withMap.template.toJSON().Resources[id].Properties.Environment.Variables)).toContain(
      'S3_COMPARE_STATE_MACHINE_ARN',
    );
    const actions = statementsOf(
      withMap.template,
      withMap.stack,
      withMap.construct.roles.s3 as iam.IRole,
    ).flatMap(actionsOf);
    expect(actions).toContain('states:StartExecution');
  });

  it('deploys only the requested types', () => {
    const some = build({ resourceTypes: ['s3', 'dynamodb'] });
    expect(Object.keys(some.construct.functions).sort()).toEqual(['dynamodb', 's3']);
    expect(Object.values(some.template.findResources('AWS::Events::Rule'))).toHaveLength(2);
  });

  it('fails synth naming the file and the path when the config is invalid', () => {
    const bad = join(FIXTURES, 'invalid.config.yaml');
    expect(() => build({ configPath: bad })).toThrow(
      /invalid\.config\.yaml:8:19 at profiles\[0\]\.checks\[0\]\.expect\.n:[\s\S]*unknown key "minimum"/,
    );
  });

  it('fails synth naming the file when the config file is missing', () => {
    expect(() => build({ configPath: join(FIXTURES, 'nope.yaml') })).toThrow(
      /nope\.yaml: cannot read the config file \(ENOENT\)/,
    );
  });

  it('rejects conflicting props with the bad value and the fix', () => {
    const cases: Array<[(stack: Stack) => Partial<RestoreValidationProps>, RegExp]> = [
      (() => {
        const f = (stack: Stack) => ({
          securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345678'),
        });
        return [f, /securityGroup is set but vpc is not: pass the vpc/] as [typeof f, RegExp];
      })(),
      [
        () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }),
        /vpcSubnets is set but vpc is not/,
      ],
      [() => ({ restoreTestingPlanArns: [] }), /restoreTestingPlanArns is empty.*omit it/],
      [
        () => ({ restoreTestingPlanArns: ['nightly'] }),
        /"nightly", which is not a restore testing plan ARN: expected arn:aws:backup/,
      ],
      [
        () => ({ resourceTypes: ['DynamoDB' as ValidatorType] }),
        /"DynamoDB", which is not a validator type: use one of rds/,
      ],
      [() => ({ resourceTypes: [] }), /resourceTypes is empty/],
      [() => ({ resourceTypes: ['s3', 's3'] }), /lists "s3" twice/],
      [() => ({ timeout: Duration.minutes(20) }), /timeout 20 minutes is out of range/],
      [() => ({ memorySize: 64 }), /memorySize 64 is out of range: use an integer from 128 to 10240/],
      [() => ({ asyncRetryAttempts: 3 }), /asyncRetryAttempts 3 is out of range: Lambda allows 0 to 2/],
      [
        () => ({ resourceTypes: ['s3'], functionSettings: { rds: { memorySize: 2048 } } }),
        /functionSettings\.rds is set but "rds" is not in resourceTypes/,
      ],
      [() => ({ functionsDir: '/tmp' }), /functionsDir "\/tmp" is outside the project root/],
    ];
    for (const [props, message] of cases) expect(() => build({}, props)).toThrow(message);
  });

  it('gives aurora, documentdb and neptune 15 minutes and the other validators 10 when no timeout is set', () => {
    const timeoutOf = (c: RestoreValidation, tpl: Template, stack: Stack, type: ValidatorType): unknown => {
      const id = stack.getLogicalId(c.functions[type]?.node.defaultChild as never);
      return tpl.toJSON().Resources[id].Properties.Timeout;
    };
    for (const type of VALIDATOR_TYPES) {
      const slow = type === 'aurora' || type === 'documentdb' || type === 'neptune';
      expect(timeoutOf(t.construct, t.template, t.stack, type), type).toBe(slow ? 900 : 600);
    }
  });

  it('lets the timeout prop and then functionSettings override the per-type default', () => {
    const b = build({
      timeout: Duration.minutes(7),
      functionSettings: { neptune: { timeout: Duration.minutes(12) } },
    });
    const timeoutOf = (type: ValidatorType): unknown => {
      const id = b.stack.getLogicalId(b.construct.functions[type]?.node.defaultChild as never);
      return b.template.toJSON().Resources[id].Properties.Timeout;
    };
    expect(timeoutOf('aurora')).toBe(420);
    expect(timeoutOf('documentdb')).toBe(420);
    expect(timeoutOf('rds')).toBe(420);
    expect(timeoutOf('neptune')).toBe(720);
  });

  it('gives the efs and fsx validators no helper settings and no helper permissions when fileSystemHelper is not set', () => {
    for (const type of ['efs', 'fsx'] as const) {
      const id = t.stack.getLogicalId(t.construct.functions[type]?.node.defaultChild as never);
      const vars = t.template.toJSON().Resources[id].Properties.Environment.Variables;
      expect(vars.PATH_CHECK_FILE, type).toBe(`/var/task/${PATH_CHECK_FILE}`);
      expect(vars.FILESYSTEM_HELPER_INSTANCE_ID, type).toBeUndefined();
      const actions = statementsOf(t.template, t.stack, t.construct.roles[type] as iam.IRole).flatMap(
        actionsOf,
      );
      for (const a of ['ssm:SendCommand', 'ssm:GetCommandInvocation', 'elasticfilesystem:CreateMountTarget'])
        expect(actions, `${type}: ${a}`).not.toContain(a);
    }
  });

  it('passes the helper to the efs and fsx validators and lets them run commands on that instance only when fileSystemHelper is set', () => {
    const b = build({
      fileSystemHelper: {
        instanceId: 'i-0123456789abcdef0',
        mountTargetSecurityGroupId: 'sg-0123456789abcdef0',
      },
    });
    const envOf = (type: ValidatorType) => {
      const id = b.stack.getLogicalId(b.construct.functions[type]?.node.defaultChild as never);
      return b.template.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
    };
    for (const type of ['efs', 'fsx'] as const) {
      expect(envOf(type)).toMatchObject({
        FILESYSTEM_HELPER_INSTANCE_ID: 'i-0123456789abcdef0',
        FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID: 'sg-0123456789abcdef0',
        PATH_CHECK_FILE: '/var/task/path-check.cjs',
      });
      const st = statementsOf(b.template, b.stack, b.construct.roles[type] as iam.IRole);
      const send = st.filter((s) => actionsOf(s).includes('ssm:SendCommand'));
      expect(send, type).toHaveLength(1);
      const sendTo = resourcesOf(send[0] as Statement).map((r) => nagFlatten(b.stack.resolve(r)));
      expect(sendTo).toEqual([
        'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/i-0123456789abcdef0',
        'arn:<AWS::Partition>:ssm:<AWS::Region>::document/AWS-RunShellScript',
      ]);
      expect(st.find((s) => actionsOf(s).includes('ssm:GetCommandInvocation'))?.Resource).toBe('*');
    }
    // Other validators get neither the setting nor the permission.
    expect(envOf('rds').FILESYSTEM_HELPER_INSTANCE_ID).toBeUndefined();
    expect(
      statementsOf(b.template, b.stack, b.construct.roles.s3 as iam.IRole).flatMap(actionsOf),
    ).not.toContain('ssm:SendCommand');

    const fsx = statementsOf(b.template, b.stack, b.construct.roles.fsx as iam.IRole).flatMap(actionsOf);
    expect(fsx).not.toContain('elasticfilesystem:CreateMountTarget');
    expect(fsx).not.toContain('ec2:CreateNetworkInterface');

    const efs = statementsOf(b.template, b.stack, b.construct.roles.efs as iam.IRole);
    const mountTargets = efs.filter((s) => actionsOf(s).includes('elasticfilesystem:CreateMountTarget'));
    expect(mountTargets.map((s) => s.Condition)).toEqual([
      { Null: { 'aws:ResourceTag/awsbackup-restore-test': 'false' } },
      { StringLike: { 'aws:ResourceTag/Name': 'awsbackup-restore-test-*' } },
    ]);
    for (const s of mountTargets) {
      expect(actionsOf(s)).toEqual([
        'elasticfilesystem:CreateMountTarget',
        'elasticfilesystem:DeleteMountTarget',
      ]);
      expect(nagFlatten(b.stack.resolve(s.Resource))).toBe(
        'arn:<AWS::Partition>:elasticfilesystem:<AWS::Region>:<AWS::AccountId>:file-system/*',
      );
    }
    const eni = efs.find((s) => actionsOf(s).includes('ec2:CreateNetworkInterface'));
    expect(resourcesOf(eni as Statement)).not.toContain('*');
    expect(efs.flatMap(actionsOf)).toEqual(
      expect.arrayContaining([
        'ec2:DescribeInstances',
        'ec2:DescribeSubnets',
        'ec2:DescribeNetworkInterfaces',
      ]),
    );
  });

  it('rejects a fileSystemHelper that is not an instance id or has no efs or fsx validator to serve', () => {
    expect(() => build({ fileSystemHelper: { instanceId: 'helper-1' } })).toThrow(
      /fileSystemHelper.instanceId "helper-1" is not an EC2 instance id/,
    );
    expect(() =>
      build({
        fileSystemHelper: { instanceId: 'i-0123456789abcdef0', mountTargetSecurityGroupId: 'default' },
      }),
    ).toThrow(/mountTargetSecurityGroupId "default" is not a security group id/);
    expect(() =>
      build({ resourceTypes: ['rds'], fileSystemHelper: { instanceId: 'i-0123456789abcdef0' } }),
    ).toThrow(/neither "efs" nor "fsx" is in resourceTypes/);
  });

  it('rejects the boolean form of ebsHelper and s3DistributedMap, naming the object form', () => {
    // A JavaScript caller (or a cast) still passing `false` must not silently get the flow deployed.
    const old = (props: object) => () => build(props as RestoreValidationProps);
    expect(old({ s3DistributedMap: false })).toThrow(
      /s3DistributedMap: false is no longer accepted: use s3DistributedMap: \{ enabled: false \}/,
    );
    expect(old({ s3DistributedMap: true })).toThrow(/use s3DistributedMap: \{ enabled: true \}/);
    expect(old({ ebsHelper: false })).toThrow(/use ebsHelper: \{ enabled: false \}/);
  });

  it('leaves the EBS helper out when told, even with a VPC', () => {
    const v = build({ resourceTypes: ['ebs'], ebsHelper: { enabled: false } }, (stack) => ({
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }),
    }));
    expect(v.construct.ebsHelper).toBeUndefined();
    v.template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    const withHelper = build(
      { resourceTypes: ['ebs'], ebsHelper: { instanceType: 't4g.small' } },
      (stack) => ({
        vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }),
      }),
    );
    expect(withHelper.construct.ebsHelper?.settings.EBS_HELPER_INSTANCE_TYPE).toBe('t4g.small');
  });

  it('rejects a timeout that leaves no time after the config reserve', () => {
    expect(() => build({ timeout: Duration.seconds(60), functionSettings: {} }, () => ({}))).not.toThrow();
    expect(() => build({ functionSettings: { rds: { timeout: Duration.seconds(40) } } })).toThrow(
      /timeout 40 seconds is out of range/,
    );
  });
});

describe('RestoreValidation bundling', () => {
  it('bundles the validated config into the function asset as JSON that the runtime accepts', () => {
    const outdir = join(PROJECT_ROOT, '.tmp', 'infra-test-cdk.out');
    rmSync(outdir, { recursive: true, force: true });
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundled');
    const construct = new RestoreValidation(stack, 'RV', {
      configPath: VALID_CONFIG,
      functionsDir: FUNCTIONS,
      resourceTypes: ['s3'],
      s3DistributedMap: { enabled: false },
    });
    const assembly = app.synth();
    expect(construct.functions.s3).toBeDefined();
    // Two assets: the s3 validator (with the config) and the DLQ consumer (without).
    const assetDirs = readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(assembly.directory, d));
    const withConfig = assetDirs.filter((d) => existsSync(join(d, BUNDLED_CONFIG_FILE)));
    expect(assetDirs).toHaveLength(2);
    expect(withConfig).toHaveLength(1);
    const dir = withConfig[0] ?? '';
    const bundled = JSON.parse(readFileSync(join(dir, BUNDLED_CONFIG_FILE), 'utf8')) as unknown;
    const config = parseConfig(bundled, BUNDLED_CONFIG_FILE);
    expect(config.profiles.map((p) => p.name)).toEqual(['orders-db', 'reports-aurora', 'media', 'sessions']);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire } from 'module'")).toBe(true);
  });
});

describe('path-check bundling', () => {
  it('ships a runnable path-check program next to the efs handler when the efs validator is bundled', () => {
    const outdir = join(PROJECT_ROOT, '.tmp', 'infra-test-efs-cdk.out');
    rmSync(outdir, { recursive: true, force: true });
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundledEfs');
    new RestoreValidation(stack, 'RV', {
      configPath: VALID_CONFIG,
      functionsDir: FUNCTIONS,
      resourceTypes: ['efs'],
    });
    const assembly = app.synth();
    const assetDirs = readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(assembly.directory, d));
    const withProgram = assetDirs.filter((d) => existsSync(join(d, PATH_CHECK_FILE)));
    // The efs validator has it; the DLQ consumer does not.
    expect(assetDirs).toHaveLength(2);
    expect(withProgram).toHaveLength(1);
    const program = join(withProgram[0] ?? '', PATH_CHECK_FILE);
    expect(existsSync(join(withProgram[0] ?? '', BUNDLED_CONFIG_FILE))).toBe(true);

    // The shipped program runs under plain node and checks a directory tree.
    const root = mkdtempSync(join(tmpdir(), 'path-check-'));
    try {
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc', 'fstab'), '# fstab\n');
      const checks = Buffer.from(
        JSON.stringify([{ kind: 'paths', id: 'app-files', paths: ['/etc/fstab', '/missing'] }]),
      ).toString('base64');
      const run = spawnSync(process.execPath, [program, '--root', root, '--checks-base64', checks], {
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(1);
      const result = JSON.parse(run.stdout) as {
        ok: boolean;
        checks: { id: string; status: string; detail: string }[];
      };
      expect(result.ok).toBe(false);
      expect(result.checks[0]).toMatchObject({ id: 'app-files', status: 'fail' });
      expect(result.checks[0]?.detail).toContain('/missing');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('builds the same program as shared/files/path-check/bundle.ts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'path-check-bundle-'));
    try {
      execFileSync('sh', ['-c', pathCheckBundleCommand(PROJECT_ROOT, out)]);
      expect(readFileSync(join(out, PATH_CHECK_FILE), 'utf8')).toBe(await bundlePathCheck());
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('nagFlatten', () => {
  it('renders a token-laden CloudFormation value as readable text', () => {
    expect(
      nagFlatten({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { 'Fn::GetAtt': ['B', 'Arn'] }]],
      }),
    ).toBe('arn:<AWS::Partition>:s3:::<B.Arn>');
  });
});

describe('cdkBundlingFields', () => {
  it('maps every shared esbuild option onto NodejsFunction bundling', () => {
    const fields = cdkBundlingFields();
    expect(fields).toMatchObject({
      format: esbuildOptions.format,
      target: 'node24',
      minify: true,
      sourceMap: true,
      mainFields: ['module', 'main'],
      externalModules: [...esbuildOptions.external],
      banner: ESM_REQUIRE_BANNER,
      esbuildArgs: { '--legal-comments': 'none', '--charset': 'utf8' },
    });
    // The AWS SDK is never external (the runtime's copy has lacked PutRestoreValidationResult).
    expect(fields.externalModules.some((m) => m.startsWith('@aws-sdk') || m.startsWith('@smithy'))).toBe(
      false,
    );
    // A new esbuild option must be mapped (or deliberately ignored) here, or CDK and scripts/bundle.ts drift apart.
    expect(Object.keys(esbuildOptions).sort()).toEqual(
      [
        'banner',
        'bundle',
        'charset',
        'external',
        'format',
        'legalComments',
        'logLevel',
        'mainFields',
        'minify',
        'platform',
        'sourcemap',
        'target',
      ].sort(),
    );
  });
});
