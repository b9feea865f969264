/**
 * The EBS helper flow: a Step Functions state machine that launches a helper instance in the
 * restored volume's AZ, attaches the volume, runs the mount-check program through SSM Run Command,
 * and — always, through a catch-all — detaches the volume, terminates the helper and posts the
 * verdict. A scheduled janitor terminates helpers that outlive their deadline. The EBS validator
 * starts one execution per restore job (functions/ebs/validator.ts) and defers its verdict to it.
 *
 * Wire it into the main construct with {@link EbsHelper.attachTo} (sets the validator's settings and
 * lets it start executions).
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
import {
  Duration,
  aws_ec2 as ec2,
  aws_events as events,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  Stack,
  aws_stepfunctions as sfn,
  aws_events_targets as targets,
  aws_stepfunctions_tasks as tasks,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_AMI_PARAMETER,
  DEFAULT_HELPER_MAX_MINUTES,
  DEFAULT_INSTANCE_TYPE,
} from '../../functions/ebs/flow';
import { CREATED_BY_TAG, RESTORE_TEST_TAG } from '../../shared/guard';
import { allow, functionEntry, nodeBundling, nodeFunction } from '../core';
import { stateMachineLogGroup } from '../log-groups';
import { nagFlatten } from '../nag';

export interface EbsHelperProps {
  /** VPC the helpers run in. They need outbound HTTPS to SSM (NAT or VPC endpoints) and nothing inbound. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for helpers; the one in the restored volume's AZ is used, so cover every AZ restores
   * may land in (a restore picks a random AZ unless the selection overrides `availabilityZone`).
   * @default private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Helper instance type. A Graviton burstable type is the cheapest that runs fsck on 100 GiB
   * comfortably; use a larger one for multi-TiB XFS volumes (xfs_repair -n needs memory).
   * @default 't4g.micro'
   */
  readonly instanceType?: string;
  /**
   * Public SSM parameter (or your own) holding the helper AMI id. Its architecture must match
   * `instanceType`. Use a custom AMI with btrfs-progs/ntfs-3g for those file systems.
   * @default '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64'
   */
  readonly amiParameter?: string;
  /**
   * Longest a helper may live. The helper powers itself off (= terminates) at this age, the flow
   * gives up waiting 5 minutes before it, and the janitor terminates anything older.
   * @default Duration.minutes(60)
   */
  readonly helperMaxDuration?: Duration;
  /** How often the janitor sweeps for expired helpers. @default Duration.minutes(15) */
  readonly janitorSchedule?: Duration;
  /**
   * Customer managed KMS keys restored volumes may be encrypted with (a restore keeps the source's
   * key). Attaching such a volume needs `kms:CreateGrant` from the attaching principal; it is
   * granted only for EC2 in this region on behalf of an AWS resource (kms:ViaService,
   * kms:GrantIsForAWSResource), on these keys.
   * @default every key of this account and region, under the same conditions
   * @see https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html
   */
  readonly kmsKeyArns?: readonly string[];
  /** Log retention of the steps, janitor and state machine. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/** The settings the EBS validator reads (functions/ebs/settings.ts `ebsHelperSettings`). */
export interface EbsHelperSettings {
  readonly EBS_STATE_MACHINE_ARN: string;
  readonly EBS_HELPER_SUBNET_IDS: string;
  readonly EBS_HELPER_SECURITY_GROUP_ID: string;
  readonly EBS_HELPER_INSTANCE_PROFILE: string;
  readonly EBS_HELPER_AMI_PARAMETER: string;
  readonly EBS_HELPER_INSTANCE_TYPE: string;
  readonly EBS_HELPER_MAX_MINUTES: string;
}

export class EbsHelper extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** One Lambda serving every step (`{ step, state }`). */
  readonly stepsFunction: nodejs.NodejsFunction;
  readonly janitor: nodejs.NodejsFunction;
  /** Security group of the helpers: no inbound rules. */
  readonly securityGroup: ec2.SecurityGroup;
  /** Role of the helper instances: SSM-managed, nothing else. */
  readonly helperRole: iam.Role;
  readonly instanceProfile: iam.InstanceProfile;
  /** Environment for the EBS validator. */
  readonly settings: EbsHelperSettings;

  constructor(scope: Construct, id: string, props: EbsHelperProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const p = stack.partition;
    const r = stack.region;
    const a = stack.account;
    const maxMinutes = Math.ceil(
      (props.helperMaxDuration ?? Duration.minutes(DEFAULT_HELPER_MAX_MINUTES)).toMinutes({
        integral: false,
      }),
    );
    if (maxMinutes < 15)
      throw new Error(
        `EbsHelper: helperMaxDuration ${maxMinutes} min is too short for launch + SSM + fsck; use at least 15 minutes.`,
      );
    const amiParameter = props.amiParameter ?? DEFAULT_AMI_PARAMETER;
    const instanceType = props.instanceType ?? DEFAULT_INSTANCE_TYPE;
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;

    this.securityGroup = new ec2.SecurityGroup(this, 'HelperSecurityGroup', {
      vpc: props.vpc,
      description: 'restore-validation EBS helpers: no inbound; outbound HTTPS to SSM',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'SSM, EC2 messages and package repositories over HTTPS',
    );

    this.helperRole = new iam.Role(this, 'HelperRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'restore-validation EBS helper instances: SSM-managed only',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.helperRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'the AWS-maintained minimum for an SSM-managed instance',
    });
    this.instanceProfile = new iam.InstanceProfile(this, 'HelperInstanceProfile', { role: this.helperRole });

    const subnetIds = props.vpc.selectSubnets(
      props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    ).subnetIds;

    // --- steps Lambda ----------------------------------------------------------------------------
    // Own roles with only their log group, not AWSLambdaBasicExecutionRole (which writes to any group).
    this.stepsFunction = nodeFunction(this, 'Steps', {
      roleDescription: 'restore-validation EBS helper flow steps',
      description: 'EBS helper flow steps: launch, attach, SSM mount check, detach, terminate, report',
      entry: functionEntry('ebs', 'steps.ts'),
      memorySize: 256,
      timeout: Duration.minutes(2),
      logRetention: retention,
      // The mount-check program ships next to the handler as one CommonJS file for plain node.
      bundling: nodeBundling((inputDir, outputDir) => [
        `"${inputDir}/node_modules/.bin/esbuild" "${inputDir}/shared/files/mount-check/main.ts" --bundle --platform=node --format=cjs --target=node18 --minify --legal-comments=none --log-level=warning --outfile="${outputDir}/mount-check.cjs"`,
      ]),
      environment: {
        MOUNT_CHECK_FILE: '/var/task/mount-check.cjs',
        POWERTOOLS_SERVICE_NAME: 'restore-validation',
      },
    });
    const stepsRole = this.stepsFunction.role as iam.Role;
    const ownedByUs = { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } };
    const restoreTest = { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } };
    const grant = (
      role: iam.IRole,
      sid: string,
      actions: string[],
      resources: string[],
      why: string,
      conditions?: Record<string, unknown>,
    ) => allow(role, { sid, actions, resources, why, ...(conditions ? { conditions } : {}) });
    grant(
      stepsRole,
      'Describe',
      [
        'ec2:DescribeVolumes',
        'ec2:DescribeInstances',
        'ec2:DescribeSubnets',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
        // Cancels only a mount check still running when the flow gives up; no resource-level support.
        'ssm:CancelCommand',
      ],
      ['*'],
      'Describe/Get and CancelCommand support no resource-level permissions',
    );
    grant(
      stepsRole,
      'LaunchTaggedHelper',
      ['ec2:RunInstances'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`, `arn:${p}:ec2:${r}:${a}:volume/*`],
      `only instances and their root volumes created with the ${CREATED_BY_TAG} tag (aws:RequestTag condition)`,
      { Null: { [`aws:RequestTag/${CREATED_BY_TAG}`]: 'false' } },
    );
    grant(
      stepsRole,
      'LaunchHelperFrom',
      ['ec2:RunInstances'],
      [
        `arn:${p}:ec2:${r}::image/*`,
        `arn:${p}:ec2:${r}:${a}:subnet/*`,
        `arn:${p}:ec2:${r}:${a}:network-interface/*`,
        `arn:${p}:ec2:${r}:${a}:security-group/${this.securityGroup.securityGroupId}`,
      ],
      'the AMI comes from the SSM parameter at run time; subnets are those of the helper VPC',
    );
    grant(
      stepsRole,
      'TagAtLaunch',
      ['ec2:CreateTags'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`, `arn:${p}:ec2:${r}:${a}:volume/*`],
      'only as part of RunInstances',
      {
        StringEquals: { 'ec2:CreateAction': 'RunInstances' },
      },
    );
    grant(
      stepsRole,
      'AttachRestoredVolumes',
      ['ec2:AttachVolume', 'ec2:DetachVolume'],
      [`arn:${p}:ec2:${r}:${a}:volume/*`],
      `only volumes tagged ${RESTORE_TEST_TAG}`,
      restoreTest,
    );
    grant(
      stepsRole,
      'AttachToOurHelpers',
      ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:TerminateInstances'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`],
      `only instances tagged ${CREATED_BY_TAG}`,
      ownedByUs,
    );
    grant(
      stepsRole,
      'RunMountCheckOnOurHelpers',
      ['ssm:SendCommand'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`],
      `only instances tagged ${CREATED_BY_TAG}`,
      {
        Null: { [`ssm:resourceTag/${CREATED_BY_TAG}`]: 'false' },
      },
    );
    // As CDK's Volume.grantAttachVolume: EC2 creates a grant on the volume's key for the attachment.
    grant(
      stepsRole,
      'AttachEncryptedVolumes',
      ['kms:CreateGrant'],
      props.kmsKeyArns?.length ? [...props.kmsKeyArns] : [`arn:${p}:kms:${r}:${a}:key/*`],
      `EC2 needs a grant on a restored volume's customer managed key to attach it; only via EC2 in ${r} for an AWS resource`,
      {
        Bool: { 'kms:GrantIsForAWSResource': true },
        StringEquals: { 'kms:ViaService': `ec2.${r}.amazonaws.com` },
      },
    );
    grant(
      stepsRole,
      'RunShellScript',
      ['ssm:SendCommand'],
      [`arn:${p}:ssm:${r}::document/AWS-RunShellScript`],
      'the AWS-owned shell document only',
    );
    grant(
      stepsRole,
      'ReadAmiParameter',
      ['ssm:GetParameter'],
      [`arn:${p}:ssm:${r}:${amiParameter.startsWith('/aws/') ? '' : a}:parameter${amiParameter}`],
      'the helper AMI parameter only',
    );
    grant(
      stepsRole,
      'PassHelperRole',
      ['iam:PassRole'],
      [this.helperRole.roleArn],
      "the helper instances' own role only",
    );
    grant(
      stepsRole,
      'PostVerdict',
      // GetRestoreJobMetadata: the final step reads the job again for its evidence record.
      ['backup:DescribeRestoreJob', 'backup:GetRestoreJobMetadata', 'backup:PutRestoreValidationResult'],
      ['*'],
      'AWS Backup offers no resource-level permissions for these restore-job calls',
    );

    // --- state machine -----------------------------------------------------------------------------
    const step = (name: string, stepName: string) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: this.stepsFunction,
        payload: sfn.TaskInput.fromObject({ step: stepName, state: sfn.JsonPath.entirePayload }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const wait = (name: string, seconds: number) =>
      new sfn.Wait(this, name, { time: sfn.WaitTime.duration(Duration.seconds(seconds)) });
    /** A step repeated with a wait until it returns `ready: true`. */
    const loop = (name: string, stepName: string, seconds: number, next: sfn.IChainable) => {
      const task = step(name, stepName);
      task.next(
        new sfn.Choice(this, `${name}Ready?`)
          .when(sfn.Condition.booleanEquals('$.ready', true), next)
          .otherwise(wait(`${name}Wait`, seconds).next(task)),
      );
      return task;
    };

    const report = step('ReportVerdict', 'reportVerdict');
    report.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 5,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    const done = new sfn.Succeed(this, 'Done');
    report.next(done);
    // After ReportVerdict's retries (evidence store or Backup unreachable): post FAILED with the
    // reason and nothing else. If even that fails, the execution fails and the rule below retries.
    const fallback = step('ReportFailure', 'reportFailure');
    fallback.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 5,
      interval: Duration.seconds(10),
      backoffRate: 2,
    });
    fallback.addCatch(new sfn.Fail(this, 'VerdictNotPosted', { error: 'VerdictNotPosted' }), {
      errors: ['States.ALL'],
    });
    fallback.next(done);
    report.addCatch(fallback, { errors: ['States.ALL'], resultPath: '$.reportError' });

    const terminate = step('TerminateHelper', 'terminateHelper');
    terminate.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 6,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    // If termination keeps failing, still report; the helper's own shutdown and the janitor remain.
    terminate.addCatch(report, { errors: ['States.ALL'], resultPath: '$.terminateError' });
    terminate.next(report);

    const detach = loop('DetachVolume', 'detachVolume', 5, terminate);
    detach.addRetry({
      errors: ['States.ALL'],
      maxAttempts: 3,
      interval: Duration.seconds(5),
      backoffRate: 2,
    });
    detach.addCatch(terminate, { errors: ['States.ALL'], resultPath: '$.detachError' });

    const collect = new sfn.Pass(this, 'Collected');
    const poll = loop('PollMountCheck', 'pollMountCheck', 15, collect);
    const start = step('StartMountCheck', 'startMountCheck').next(poll);
    const waitSsm = loop('WaitForSsm', 'waitForSsm', 10, start);
    const attach = loop('AttachVolume', 'attachVolume', 10, waitSsm);

    // Everything after launch runs inside one Parallel, so a single catch-all sends any failure to
    // clean-up with the launch output (the helper id) still in the state.
    const validate = new sfn.Parallel(this, 'WithHelper', { outputPath: '$[0]' });
    validate.branch(attach);
    validate.addCatch(detach, { errors: ['States.ALL'], resultPath: '$.error' });
    validate.next(detach);

    const launch = step('LaunchHelper', 'launchHelper');
    launch.addRetry({
      errors: ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'InsufficientInstanceCapacity'],
      maxAttempts: 3,
    });
    // A failed launch may still have created an instance: clean-up finds it by its restore-job tag.
    launch.addCatch(detach, { errors: ['States.ALL'], resultPath: '$.error' });
    launch.next(validate);

    const smLogs = stateMachineLogGroup(this, 'StateMachineLogs', retention);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment:
        'restore-validation EBS helper: launch, attach, mount check, then always detach, terminate and report',
      definitionBody: sfn.DefinitionBody.fromChainable(launch),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: Duration.minutes(maxMinutes + 20),
      tracingEnabled: true,
      // Every event, but never execution data (states carry ids and check results; logs stay lean).
      logs: { destination: smLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    const smRole = this.stateMachine.role;
    Validations.of(smRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagFlatten(stack.resolve(this.stepsFunction.functionArn))}:*]`,
      reason:
        'LambdaInvoke grants the steps function and its versions; it is the only function this role can invoke',
    });
    Validations.of(smRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs delivery and X-Ray trace writes support no resource-level permissions',
    });

    // Executions that end without reaching the verdict (States.DataLimitExceeded and the execution
    // timeout cannot be caught; StopExecution aborts) still clean up and get a FAILED verdict.
    new events.Rule(this, 'ExecutionEndedRule', {
      description: 'EBS helper executions that FAILED, TIMED_OUT or were ABORTED: clean up and post FAILED',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      targets: [
        new targets.LambdaFunction(this.stepsFunction, {
          event: events.RuleTargetInput.fromObject({
            step: 'executionEnded',
            detail: events.EventField.fromPath('$.detail'),
          }),
          retryAttempts: 4,
        }),
      ],
    });

    // --- janitor -----------------------------------------------------------------------------------
    this.janitor = nodeFunction(this, 'Janitor', {
      roleDescription: 'restore-validation EBS helper janitor',
      description: 'Terminates EBS helpers past their deadline after detaching restore-test volumes',
      entry: functionEntry('ebs', 'janitor.ts'),
      memorySize: 256,
      timeout: Duration.minutes(5),
      logRetention: retention,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'restore-validation',
        // The janitor terminates only instances launched with these (a copied tag is not enough).
        EBS_HELPER_SECURITY_GROUP_ID: this.securityGroup.securityGroupId,
        EBS_HELPER_INSTANCE_PROFILE: this.instanceProfile.instanceProfileName,
      },
    });
    const janitorRole = this.janitor.role as iam.Role;
    grant(
      janitorRole,
      'Describe',
      ['ec2:DescribeInstances', 'ec2:DescribeVolumes'],
      ['*'],
      'Describe actions support no resource-level permissions',
    );
    grant(
      janitorRole,
      'DetachRestoredVolumes',
      ['ec2:DetachVolume'],
      [`arn:${p}:ec2:${r}:${a}:volume/*`],
      `only volumes tagged ${RESTORE_TEST_TAG}`,
      restoreTest,
    );
    grant(
      janitorRole,
      'CleanOurHelpers',
      ['ec2:DetachVolume', 'ec2:TerminateInstances'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`],
      `only instances tagged ${CREATED_BY_TAG}`,
      ownedByUs,
    );
    new events.Rule(this, 'JanitorSchedule', {
      description: 'Sweeps EBS helpers that outlived their deadline',
      schedule: events.Schedule.rate(props.janitorSchedule ?? Duration.minutes(15)),
      targets: [new targets.LambdaFunction(this.janitor, { retryAttempts: 2 })],
    });

    this.settings = {
      EBS_STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
      EBS_HELPER_SUBNET_IDS: subnetIds.join(','),
      EBS_HELPER_SECURITY_GROUP_ID: this.securityGroup.securityGroupId,
      EBS_HELPER_INSTANCE_PROFILE: this.instanceProfile.instanceProfileName,
      EBS_HELPER_AMI_PARAMETER: amiParameter,
      EBS_HELPER_INSTANCE_TYPE: instanceType,
      EBS_HELPER_MAX_MINUTES: String(maxMinutes),
    };
    if (subnetIds.length === 0)
      throw new Error(
        'EbsHelper: the VPC has no subnets for helpers; pass vpcSubnets selecting subnets in every AZ restores may use.',
      );
  }

  /**
   * Gives the EBS validator what it needs to start the flow: the settings as environment and
   * `states:StartExecution` on this state machine only.
   */
  attachTo(validator: lambda.Function): void {
    for (const [k, v] of Object.entries(this.settings)) validator.addEnvironment(k, v);
    this.stateMachine.grantStartExecution(validator);
    // The helper's deadline must fall inside the job's validation window (the selection's hours).
    const stack = Stack.of(this);
    const plans = `arn:${stack.partition}:backup:${stack.region}:${stack.account}:restore-testing-plan:*`;
    if (validator.role)
      allow(validator.role, {
        sid: 'ReadValidationWindow',
        actions: ['backup:ListRestoreTestingSelections'],
        resources: [plans],
        why: 'the restore job names its plan only at run time; read-only listing of its selections',
      });
  }
}
