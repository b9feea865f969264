/**
 * The organisation half of restore validation: member stacks forward their restore-job events to a
 * central evidence account, and the central account's bus and evidence bucket accept them from
 * exactly the member accounts named.
 *
 * - `RestoreEventForwarding` (member stack): an EventBridge rule for `aws.backup`
 *   "Restore Job State Change" whose target is the central bus, with an encrypted dead-letter queue
 *   and a role that may `events:PutEvents` on that one bus.
 * - `CentralEvidenceReceiver` (central stack): an event bus whose resource policy lets exactly the
 *   member accounts put events, a bucket policy that lets each member account write evidence
 *   below its own `<account>/` prefix, a DynamoDB resource policy that lets them index it, and a
 *   CloudWatch cross-account observability sink they may link their `RestoreValidation` metrics to.
 * - `CentralMetricsLink` (member stack): the link to that sink, sharing the `RestoreValidation`
 *   namespace and nothing else.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Unified-Cross-Account.html
 */
import {
  Arn,
  ArnFormat,
  Duration,
  type aws_dynamodb as dynamodb,
  aws_events as events,
  aws_iam as iam,
  aws_oam as oam,
  Stack,
  type aws_s3 as s3,
  aws_sqs as sqs,
  Token,
  aws_events_targets as targets,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../shared/metrics';
import { allow } from '../core';

/** The event pattern of every restore-job state change (the validators' trigger). */
export const RESTORE_JOB_EVENT_PATTERN: events.EventPattern = {
  source: ['aws.backup'],
  detailType: ['Restore Job State Change'],
};

export interface RestoreEventForwardingProps {
  /** ARN of the central account's event bus (`CentralEvidenceReceiver.eventBus`). */
  readonly eventBusArn: string;
}

/** Member stack: forwards this account's and region's restore-job events to the central bus. */
export class RestoreEventForwarding extends Construct {
  readonly rule: events.Rule;
  /** Events EventBridge could not deliver to the central bus (after its own retries). */
  readonly deadLetterQueue: sqs.Queue;
  /** Assumed by EventBridge to put events on the central bus, and nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RestoreEventForwardingProps) {
    super(scope, id);
    const bus = events.EventBus.fromEventBusArn(this, 'CentralBus', props.eventBusArn);
    this.deadLetterQueue = new sqs.Queue(this, 'ForwardingDlq', {
      // SSE-SQS: EventBridge cannot send to a queue encrypted with the AWS managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'this queue is the dead-letter queue of the forwarding rule target: undeliverable events end here',
    });
    this.role = new iam.Role(this, 'ForwardingRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'restore-validation: forwards restore-job events to the central evidence account bus',
    });
    // targets.EventBus adds `events:PutEvents` on exactly this bus to the role: nothing else is granted.
    this.rule = new events.Rule(this, 'ForwardRestoreJobEvents', {
      description: 'Forwards AWS Backup restore-job state changes to the central evidence account',
      eventPattern: RESTORE_JOB_EVENT_PATTERN,
    });
    this.rule.addTarget(
      new targets.EventBus(bus, { role: this.role, deadLetterQueue: this.deadLetterQueue }),
    );
  }
}

export interface CentralEvidenceReceiverProps {
  /** Accounts whose stacks forward events and write evidence here (12 digits each). */
  readonly memberAccountIds: readonly string[];
  /**
   * The central evidence bucket: member accounts may write below `<account>/`.
   * @default - no bucket policy is added
   */
  readonly evidenceBucket?: s3.IBucket;
  /**
   * The central evidence index: member accounts may index their records in it. It must not be
   * encrypted with the AWS managed key (`aws/dynamodb`): DynamoDB refuses cross-account access then.
   * @default - no table resource policy is added
   */
  readonly evidenceTable?: dynamodb.Table;
  /** @default - generated */
  readonly eventBusName?: string;
  /** @default CENTRAL_METRICS_SINK_NAME */
  readonly metricsSinkName?: string;
  /**
   * How long the bus archive keeps forwarded restore-job events (a year of weekly tests and margin).
   * @default Duration.days(400)
   */
  readonly eventArchiveRetention?: Duration;
}

/**
 * What members do in the central index: index a record (`PutItem`, conditional) and, for the
 * reconciler, look up which jobs already have one (`BatchGetItem`). No reads of other records, no
 * deletes, no queries: the report runs in the central account.
 */
export const MEMBER_INDEX_ACTIONS = ['dynamodb:PutItem', 'dynamodb:BatchGetItem'] as const;

/** The central metrics sink name, unless told otherwise. */
export const CENTRAL_METRICS_SINK_NAME = 'restore-validation-central';

/** What a member link shares: the restore-validation namespace, no other metric and no logs. */
export const METRICS_LINK_FILTER = `Namespace = '${METRICS_NAMESPACE}'`;

/**
 * How Lambdas name the evidence table (`EVIDENCE_TABLE`): by name in their own account, by ARN when
 * it is another account's (cross-account DynamoDB calls must name the table by its ARN).
 */
export function evidenceTableRef(table: dynamodb.ITable, scope: Construct): string {
  // A table of this stack has a token ARN; an imported one a literal ARN, naming its account.
  if (Token.isUnresolved(table.tableArn)) return table.tableName;
  const { account } = Arn.split(table.tableArn, ArnFormat.SLASH_RESOURCE_NAME);
  return account === Stack.of(scope).account ? table.tableName : table.tableArn;
}

/** The member role name the central reconciler assumes, unless told otherwise. */
export const CENTRAL_READ_ROLE_NAME = 'restore-validation-central-read';

/** The central bus name, unless told otherwise (members build its ARN from it). */
export const CENTRAL_EVENT_BUS_NAME = 'restore-validation-central';

export interface CentralReadRoleProps {
  /** The central stack's reconciler role (`RestoreValidationOperations.reconcilerRole.roleArn`). */
  readonly reconcilerRoleArn: string;
  /** @default CENTRAL_READ_ROLE_NAME */
  readonly roleName?: string;
}

/**
 * Member stack: the role the central reconciler assumes to list this account's restore jobs.
 * Read only: `backup:ListRestoreJobs` and nothing else.
 */
export class CentralReadRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: CentralReadRoleProps) {
    super(scope, id);
    checkArn(
      'centralReconciler.reconcilerRoleArn',
      props.reconcilerRoleArn,
      ROLE_ARN,
      "arn:aws:iam::<account>:role/<name>: the central stack's ReconcilerRoleArn output as it is",
    );
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName ?? CENTRAL_READ_ROLE_NAME,
      assumedBy: new iam.ArnPrincipal(props.reconcilerRoleArn),
      description: 'restore-validation: the central reconciler lists restore jobs here (report only)',
      maxSessionDuration: Duration.hours(1),
    });
    allow(this.role, {
      sid: 'ListRestoreJobs',
      actions: ['backup:ListRestoreJobs'],
      resources: ['*'],
      why: 'AWS Backup has no resource-level permissions for it, Resource must be *',
    });
  }
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
export const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[\w.-]+$/;

/**
 * Refuses a value that is not the ARN it must be, e.g. an output that is already an ARN pasted
 * after another ARN prefix (`arn:aws:iam::1:role/arn:aws:iam::1:role/…`): IAM would accept the
 * principal or resource and match nothing.
 */
export function checkArn(prop: string, value: string, pattern: RegExp, expected: string): void {
  if (Token.isUnresolved(value)) return;
  if (!pattern.test(value) || value.indexOf('arn:', 1) !== -1)
    throw new CentralPropsError(`${prop} ${JSON.stringify(value)} is not a valid ARN: expected ${expected}.`);
}

/** Thrown for an account id that is not 12 digits (a typo would silently grant nobody). */
export class CentralPropsError extends Error {
  constructor(message: string) {
    super(`restore-validation central account: ${message}`);
    this.name = 'CentralPropsError';
  }
}

/** Central stack: the bus member stacks forward to, and member write access to the evidence bucket. */
export class CentralEvidenceReceiver extends Construct {
  readonly eventBus: events.EventBus;
  /** Every forwarded restore-job event, replayable (`eventArchiveRetention`). */
  readonly eventArchive: events.Archive;
  /** Member stacks link to it (`forwardMetricsTo.sinkArn` = `metricsSink.attrArn`). */
  readonly metricsSink: oam.CfnSink;
  /** The member accounts, checked and without repeats. */
  readonly memberAccountIds: readonly string[];

  constructor(scope: Construct, id: string, props: CentralEvidenceReceiverProps) {
    super(scope, id);
    const accounts = [...new Set(props.memberAccountIds)];
    if (accounts.length === 0)
      throw new CentralPropsError('memberAccountIds is empty: name at least one member account.');
    for (const a of accounts)
      if (!/^\d{12}$/.test(a))
        throw new CentralPropsError(`member account id ${JSON.stringify(a)} is not 12 digits.`);
    this.memberAccountIds = accounts;

    this.eventBus = new events.EventBus(this, 'Bus', {
      ...(props.eventBusName ? { eventBusName: props.eventBusName } : {}),
      description: 'restore-validation: restore-job events forwarded by member accounts',
    });
    // An audit trail of every member restore job that is independent of the members' own stacks.
    this.eventArchive = this.eventBus.archive('Archive', {
      description: 'restore-validation: restore-job events forwarded by member accounts',
      eventPattern: RESTORE_JOB_EVENT_PATTERN,
      retention: props.eventArchiveRetention ?? Duration.days(400),
    });
    this.eventBus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'MemberAccountsPutEvents',
        actions: ['events:PutEvents'],
        principals: accounts.map((a) => new iam.AccountPrincipal(a)),
        resources: [this.eventBus.eventBusArn],
      }),
    );
    if (props.evidenceBucket) {
      for (const a of accounts) {
        // Each member writes its own prefix only: one account cannot overwrite another's evidence.
        props.evidenceBucket.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: `MemberEvidence${a}`,
            actions: ['s3:PutObject'],
            principals: [new iam.AccountPrincipal(a)],
            resources: [props.evidenceBucket.arnForObjects(`${a}/*`)],
          }),
        );
      }
    }
    if (props.evidenceTable) {
      // In a table's resource policy `*` is this table (CDK cannot name the table's own ARN without a
      // circular reference); the actions, not the resource, keep members to writing their index.
      props.evidenceTable.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'MemberEvidenceIndex',
          actions: [...MEMBER_INDEX_ACTIONS],
          principals: accounts.map((a) => new iam.AccountPrincipal(a)),
          resources: ['*'],
        }),
      );
    }
    // Cross-account observability: members link their metrics here (metrics only; each link also
    // filters to the RestoreValidation namespace). Links and sinks are regional.
    this.metricsSink = new oam.CfnSink(this, 'MetricsSink', {
      name: props.metricsSinkName ?? CENTRAL_METRICS_SINK_NAME,
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'MemberAccountsLinkMetrics',
            Effect: 'Allow',
            Principal: { AWS: accounts },
            Action: ['oam:CreateLink', 'oam:UpdateLink'],
            Resource: '*',
            Condition: {
              'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] },
            },
          },
        ],
      },
    });
  }
}

export interface CentralMetricsLinkProps {
  /** ARN of the central account's sink (the central stack's `CentralMetricsSinkArn` output). */
  readonly sinkArn: string;
}

/**
 * Member stack: shares this account's `RestoreValidation` metrics (and no others) with the central
 * account's sink in the same region, labelled with the account name.
 */
export class CentralMetricsLink extends Construct {
  readonly link: oam.CfnLink;

  constructor(scope: Construct, id: string, props: CentralMetricsLinkProps) {
    super(scope, id);
    const { sinkArn } = props;
    if (!Token.isUnresolved(sinkArn)) {
      const m = /^arn:aws[a-z-]*:oam:([a-z0-9-]+):(\d{12}):sink\/[\w-]+$/.exec(sinkArn);
      if (!m)
        throw new CentralPropsError(
          `forwardMetricsTo.sinkArn ${JSON.stringify(sinkArn)} is not an OAM sink ARN (arn:aws:oam:<region>:<account>:sink/<id>, the central stack's CentralMetricsSinkArn output).`,
        );
      const region = Stack.of(this).region;
      if (!Token.isUnresolved(region) && m[1] !== region)
        throw new CentralPropsError(
          `forwardMetricsTo.sinkArn is in ${m[1]} but this stack is in ${region}: metric links are regional, so deploy the central stack (its sink) in ${region} too and link to that one.`,
        );
    }
    this.link = new oam.CfnLink(this, 'Link', {
      sinkIdentifier: sinkArn,
      resourceTypes: ['AWS::CloudWatch::Metric'],
      labelTemplate: '$AccountName',
      linkConfiguration: { metricConfiguration: { filter: METRICS_LINK_FILTER } },
    });
  }
}
