/**
 * The organisation half of restore validation: member stacks forward their restore-job events to a
 * central evidence account, and the central account's bus and evidence bucket accept them from
 * exactly the member accounts named.
 *
 * - `RestoreEventForwarding` (member stack): an EventBridge rule for `aws.backup`
 *   "Restore Job State Change" whose target is the central bus, with an encrypted dead-letter queue
 *   and a role that may `events:PutEvents` on that one bus.
 * - `CentralEvidenceReceiver` (central stack): an event bus whose resource policy lets exactly the
 *   member accounts put events, and a bucket policy that lets each member account write evidence
 *   below its own `<account>/` prefix.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html
 */
import {
  Duration,
  aws_events as events,
  aws_iam as iam,
  type aws_s3 as s3,
  aws_sqs as sqs,
  aws_events_targets as targets,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

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
  /** The central evidence bucket: member accounts may write below `<account>/`. */
  readonly evidenceBucket?: s3.IBucket;
  /** @default - generated */
  readonly eventBusName?: string;
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
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName ?? CENTRAL_READ_ROLE_NAME,
      assumedBy: new iam.ArnPrincipal(props.reconcilerRoleArn),
      description: 'restore-validation: the central reconciler lists restore jobs here (report only)',
      maxSessionDuration: Duration.hours(1),
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListRestoreJobs',
        actions: ['backup:ListRestoreJobs'],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ListRestoreJobs: AWS Backup has no resource-level permissions for it, Resource must be *',
    });
  }
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

  constructor(scope: Construct, id: string, props: CentralEvidenceReceiverProps) {
    super(scope, id);
    const accounts = [...new Set(props.memberAccountIds)];
    if (accounts.length === 0)
      throw new CentralPropsError('memberAccountIds is empty: name at least one member account.');
    for (const a of accounts)
      if (!/^\d{12}$/.test(a))
        throw new CentralPropsError(`member account id ${JSON.stringify(a)} is not 12 digits.`);

    this.eventBus = new events.EventBus(this, 'Bus', {
      ...(props.eventBusName ? { eventBusName: props.eventBusName } : {}),
      description: 'restore-validation: restore-job events forwarded by member accounts',
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
  }
}
