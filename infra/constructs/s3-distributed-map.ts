/**
 * The S3 comparison at any size: a Step Functions state machine whose Distributed Map runs one child
 * workflow per key range of the bucket (functions/s3/plan.ts). Each child invokes the worker Lambda
 * (functions/s3/worker.ts), which compares its range of the source and restored listings object by
 * object and returns a cursor when its 15 minutes run out; the child loops until the range is done.
 * The map writes every child's counts to S3 (ResultWriter, so the merge is not bound by the 256 KiB
 * state limit); the merge Lambda (functions/s3/merge.ts) adds them up, folds in the checks the
 * validator ran before handing off, and posts the verdict with PutRestoreValidationResult.
 *
 * The S3 validator starts one execution when its estimate says a comparison will not fit its own
 * deadline (functions/s3/distributed.ts) and throws DeferredValidation. Wire it with
 * {@link S3DistributedMap.attachTo}.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
import {
  Duration,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  aws_stepfunctions as sfn,
  aws_stepfunctions_tasks as tasks,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { STATE_MACHINE_SETTING } from '../../functions/s3/distributed';
import { allow, functionEntry, nodeFunction } from '../core';
import { stateMachineLogGroup } from '../log-groups';
import { nagFlatten } from '../nag';

export interface S3DistributedMapProps {
  /**
   * Buckets the workers may read, as bucket names or name patterns (`customer-*`): the sources the
   * profiles compare with and the restored buckets. Restored buckets are named
   * `awsbackup-restore-test-…` unless the restore selection overrides the name.
   * @default ['*'] (any bucket in the account; the validator's safety guard still checks every restored bucket)
   */
  readonly readableBuckets?: readonly string[];
  /**
   * KMS keys of SSE-KMS source objects, so the workers can read them when a stream proof is needed.
   * @default - none (SSE-S3 objects need no key permission)
   */
  readonly kmsKeyArns?: readonly string[];
  /**
   * Child workflows running at once. Each worker proves up to 32 objects at a time, so 20 children
   * issue about 20 × 32 = 640 requests in flight, well below S3's 5,500 GET/HEAD per second per prefix.
   * @default 20
   */
  readonly maxConcurrency?: number;
  /**
   * Worker memory. Lambda gives one full vCPU at 1,769 MB, which the CRC32C/SHA-256 stream hashing needs.
   * @default 1769
   */
  readonly workerMemoryMiB?: number;
  /**
   * Longest a whole comparison may run (listing + proofs of every range).
   * @default Duration.hours(12)
   */
  readonly timeout?: Duration;
  /**
   * Where map results go; they expire after `resultsExpiration`.
   * @default - a new bucket (SSE-S3, TLS only, public access blocked)
   */
  readonly resultsBucket?: s3.IBucket;
  /** Expiry of map result objects in a bucket this construct creates. @default Duration.days(7) */
  readonly resultsExpiration?: Duration;
  /** Log retention of the workers, the merge step and the state machine. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

export class S3DistributedMap extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** Compares one key range (functions/s3/worker.ts). */
  readonly workerFunction: nodejs.NodejsFunction;
  /** Merges the ranges and posts the verdict (functions/s3/merge.ts). */
  readonly mergeFunction: nodejs.NodejsFunction;
  readonly resultsBucket: s3.IBucket;
  /** Environment for the S3 validator: `S3_COMPARE_STATE_MACHINE_ARN`. */
  readonly settings: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: S3DistributedMapProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const p = stack.partition;
    const maxConcurrency = props.maxConcurrency ?? 20;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 10_000) {
      throw new Error(
        `S3DistributedMap: maxConcurrency ${maxConcurrency} must be an integer from 1 to 10,000 (the Distributed Map limit).`,
      );
    }
    const memorySize = props.workerMemoryMiB ?? 1769;
    if (memorySize < 512)
      throw new Error(
        `S3DistributedMap: workerMemoryMiB ${memorySize} is too small to hash streams; use at least 512.`,
      );
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const buckets = props.readableBuckets ?? ['*'];
    if (buckets.length === 0)
      throw new Error(
        'S3DistributedMap: readableBuckets is empty; give bucket names or patterns, or leave it out for any bucket.',
      );

    this.resultsBucket =
      props.resultsBucket ??
      new s3.Bucket(this, 'Results', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.DESTROY,
        autoDeleteObjects: true,
        lifecycleRules: [{ expiration: props.resultsExpiration ?? Duration.days(7) }],
      });
    if (!props.resultsBucket) {
      Validations.of(this.resultsBucket).acknowledge({
        id: 'AwsSolutions-S1',
        reason:
          'transient map results (counts and keys of mismatches), expired after days; access logs would outlive them',
      });
    }

    // Each its own role writing to its own log group: no AWS managed policy (AwsSolutions-IAM4).
    const fn = (name: string, entry: string, description: string, memorySize: number, timeout: Duration) =>
      nodeFunction(this, name, {
        description,
        entry: functionEntry('s3', entry),
        memorySize,
        timeout,
        logRetention: retention,
        environment: { POWERTOOLS_SERVICE_NAME: 'restore-validation' },
      });
    this.workerFunction = fn(
      'Worker',
      'worker.ts',
      'Compares one key range of a source and a restored bucket',
      memorySize,
      Duration.minutes(15),
    );
    this.mergeFunction = fn(
      'Merge',
      'merge.ts',
      'Merges the S3 comparison ranges and posts the restore validation verdict',
      1024,
      Duration.minutes(5),
    );

    const grant = (role: iam.IRole, sid: string, actions: string[], resources: string[], why: string) =>
      allow(role, { sid, actions, resources, why });
    const workerRole = this.workerFunction.role as iam.IRole;
    grant(
      workerRole,
      'ListBuckets',
      ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketVersioning'],
      buckets.map((b) => `arn:${p}:s3:::${b}`),
      'source buckets are named by profiles at run time; restored bucket names are chosen by AWS Backup',
    );
    grant(
      workerRole,
      'ReadObjects',
      ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes'],
      buckets.map((b) => `arn:${p}:s3:::${b}/*`),
      'HeadObject/GetObject of every object compared, in buckets known only at run time',
    );
    if (props.kmsKeyArns?.length)
      grant(
        workerRole,
        'DecryptSourceObjects',
        ['kms:Decrypt'],
        [...props.kmsKeyArns],
        'the KMS keys of SSE-KMS source objects named in kmsKeyArns',
      );
    const mergeRole = this.mergeFunction.role as iam.IRole;
    // The merge step reads the map's result manifest and the per-range results it points to.
    grant(
      mergeRole,
      'ReadMapResults',
      ['s3:GetObject', 's3:ListBucket'],
      [this.resultsBucket.bucketArn, this.resultsBucket.arnForObjects('s3-compare/*')],
      "objects the Distributed Map's ResultWriter wrote under s3-compare/ in this construct's own bucket",
    );
    grant(
      mergeRole,
      'PostVerdict',
      ['backup:DescribeRestoreJob', 'backup:GetRestoreJobMetadata', 'backup:PutRestoreValidationResult'],
      ['*'],
      'PutRestoreValidationResult supports no resource-level permissions',
    );

    // --- child workflow: the worker, looped until its range is done -----------------------------------
    // No `payload`: the state input (params, range, index, then the worker's own output when it loops)
    // is the event. `TaskInput.fromJsonPathAt('$')` with payloadResponseOnly renders `"Parameters": "$"`,
    // which is not a payload template (Step Functions interpreters reject it).
    // @see https://github.com/aws/aws-cdk/issues/34260
    const compare = new tasks.LambdaInvoke(this, 'CompareRange', {
      lambdaFunction: this.workerFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    compare.addRetry({
      errors: ['States.Timeout', 'Lambda.Unknown', 'SlowDown'],
      maxAttempts: 3,
      interval: Duration.seconds(10),
      backoffRate: 2,
    });
    compare.next(
      new sfn.Choice(this, 'RangeDone?')
        .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'RangeCompared'))
        .otherwise(compare),
    );

    const map = new sfn.DistributedMap(this, 'CompareRanges', {
      comment: 'one child workflow per key range',
      itemsPath: '$.ranges',
      itemSelector: {
        'params.$': '$.params',
        'range.$': '$$.Map.Item.Value',
        'index.$': '$$.Map.Item.Index',
      },
      maxConcurrency,
      // Failed ranges are counted by the merge step (an error verdict), not by failing the whole map.
      toleratedFailurePercentage: 100,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      // V2 is rendered when the app enables @aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2, V1 otherwise.
      resultWriter: new sfn.ResultWriter({ bucket: this.resultsBucket, prefix: 's3-compare' }),
      resultWriterV2: new sfn.ResultWriterV2({ bucket: this.resultsBucket, prefix: 's3-compare' }),
      resultPath: '$.map',
    });
    map.itemProcessor(compare, {
      mode: sfn.ProcessorMode.DISTRIBUTED,
      executionType: sfn.ProcessorType.STANDARD,
    });

    // What the merge step reads of the execution input. The ranges are not needed any more; they
    // stay out of the payload. `dryRun` is in every input the validator starts (never absent: a
    // missing key fails the JSONPath), so a dry run's merge posts nothing either.
    const carried = {
      'restoreJobId.$': '$.restoreJobId',
      'checkId.$': '$.checkId',
      'options.$': '$.options',
      'reference.$': '$.reference',
      'params.$': '$.params',
      'priorResults.$': '$.priorResults',
      'failWhenNothingChecked.$': '$.failWhenNothingChecked',
      'objectives.$': '$.objectives',
      'dryRun.$': '$.dryRun',
    };
    // After the map, or after it failed (with the error): the same merge function, retried alike.
    const mergeTask = (id: string, input: Record<string, string>) => {
      const task = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: this.mergeFunction,
        payload: sfn.TaskInput.fromObject({ ...carried, ...input }),
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
      task.addRetry({
        errors: ['States.ALL'],
        maxAttempts: 4,
        interval: Duration.seconds(10),
        backoffRate: 2,
      });
      return task;
    };
    const merge = mergeTask('MergeAndReport', { 'map.$': '$.map' });
    const mergeAfterError = mergeTask('ReportMapFailure', { 'mapError.$': '$.mapError' });
    map.addCatch(mergeAfterError, { errors: ['States.ALL'], resultPath: '$.mapError' });
    map.next(merge);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'restore-validation S3: compare key ranges in parallel, merge the counts, post the verdict',
      definitionBody: sfn.DefinitionBody.fromChainable(map),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(12),
      tracingEnabled: true,
      logs: {
        destination: stateMachineLogGroup(this, 'StateMachineLogs', retention),
        // Every state transition is logged (AwsSolutions-SF1); execution data (keys, counts) is not.
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    // What the Distributed Map's ResultWriter needs, on this construct's own results prefix only.
    // @see https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteMapResults',
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: [this.resultsBucket.arnForObjects('s3-compare/*')],
      }),
    );
    this.node.addValidation({ validate: () => this.acknowledgeGeneratedWildcards() });
    this.settings = { [STATE_MACHINE_SETTING]: this.stateMachine.stateMachineArn };
  }

  /**
   * The wildcards CDK's own grants put in the state machine's policies (Lambda versions of this
   * construct's functions, X-Ray and log delivery, child executions of the Distributed Map, objects
   * of the results bucket) are only known once tokens resolve, so they are acknowledged at synth,
   * each with the reason its statement's actions give. A wildcard of any other kind stays a finding.
   */
  private acknowledgeGeneratedWildcards(): string[] {
    const stack = Stack.of(this);
    const reasons: Array<[RegExp, string]> = [
      [/^lambda:InvokeFunction$/, "invokes versions of this construct's own worker and merge functions"],
      [/^xray:/, 'X-Ray tracing actions support no resource-level permissions'],
      [/^logs:/, 'CloudWatch Logs delivery actions support no resource-level permissions'],
      [/^states:/, "child executions of this state machine's Distributed Map, named by Step Functions"],
      [/^s3:/, "objects under s3-compare/ in this construct's own results bucket"],
    ];
    const policies = [
      this.stateMachine.role.node.tryFindChild('DefaultPolicy'),
      this.stateMachine.node.tryFindChild('DistributedMapPolicy'),
    ].filter((c): c is iam.Policy => c instanceof iam.Policy);
    for (const policy of policies) {
      const doc = stack.resolve(policy.document.toJSON()) as {
        Statement?: Array<{ Action?: string | string[]; Resource?: unknown }>;
      };
      for (const st of doc.Statement ?? []) {
        const actions = ([] as string[]).concat(st.Action ?? []);
        // Minimised policies merge statements: every action must be explained, and each reason is kept.
        const why = actions.map((a) => reasons.find(([re]) => re.test(a))?.[1]);
        if (why.length === 0 || why.some((w) => w === undefined)) continue;
        const reason = [...new Set(why)].join('; ');
        for (const r of ([] as unknown[]).concat(st.Resource ?? [])) {
          const flat = nagFlatten(r);
          if (flat.includes('*'))
            Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
        }
      }
    }
    return [];
  }

  /**
   * Gives the S3 validator what it needs to hand off: the state machine ARN in its environment and
   * `states:StartExecution` on this state machine only. The validator also needs, in its own role,
   * `s3:ListBucket`/`s3:GetObject` on the buckets it compares (for the estimate and small comparisons).
   */
  attachTo(validator: lambda.Function): void {
    for (const [k, v] of Object.entries(this.settings)) validator.addEnvironment(k, v);
    this.stateMachine.grantStartExecution(validator);
  }
}
