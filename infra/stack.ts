/**
 * The deployable stack: one `RestoreValidation` per account and region. Settings come from CDK
 * context (`cdk.json` or `-c key=value`), so a fresh clone synthesizes with no arguments.
 */
import { CliCredentialsStackSynthesizer, aws_ec2 as ec2, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ValidatorType } from '../shared/resource-types';
import { RestoreValidationOperations, type RestoreValidationOperationsProps } from './constructs/operations';
import { RestoreValidation, type RestoreValidationProps } from './restore-validation';

export interface RestoreValidationStackProps extends StackProps {
  /** Passed to the construct as is. @default - construct defaults */
  readonly validation?: RestoreValidationProps;
  /**
   * Evidence store, alarm topic, dashboard and reconciler (docs/operations.md).
   * @default - operations defaults
   */
  readonly operations?: RestoreValidationOperationsProps;
  /**
   * Look up this VPC (by id) for the database validators. Needs credentials at synth (the lookup
   * is cached in cdk.context.json afterwards).
   * @default - no VPC
   */
  readonly vpcId?: string;
}

export class RestoreValidationStack extends Stack {
  readonly validation: RestoreValidation;
  readonly operations: RestoreValidationOperations;

  constructor(scope: Construct, id: string, props: RestoreValidationStackProps = {}) {
    super(scope, id, props);
    const vpc = props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined;
    const plans = props.validation?.restoreTestingPlanArns;
    this.operations = new RestoreValidationOperations(this, 'Operations', {
      ...(plans ? { restoreTestingPlanArns: plans } : {}),
      ...(props.validation?.dryRun ? { dryRun: true } : {}),
      ...props.operations,
    });
    this.validation = new RestoreValidation(this, 'RestoreValidation', {
      evidence: this.operations.evidence,
      alarmTopic: this.operations.alarmTopic,
      ...props.validation,
      ...(vpc ? { vpc } : {}),
    });
    // The reconciler re-invokes a validator for any job left without a verdict.
    this.operations.attachValidators(this.validation.functions);
  }
}

/** Reads the stack's settings from CDK context values (strings from `-c`, or JSON from cdk.json). */
export function propsFromContext(get: (key: string) => unknown): RestoreValidationStackProps {
  const listOf = (v: unknown): string[] | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    if (Array.isArray(v)) return v.map(String);
    return String(v)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  const configPath = get('restore-validation:configPath');
  const types = listOf(get('restore-validation:resourceTypes'));
  const plans = listOf(get('restore-validation:restoreTestingPlanArns'));
  const vpcId = get('restore-validation:vpcId');
  const dryRun = get('restore-validation:dryRun');
  const helper = get('restore-validation:fileSystemHelperInstanceId');
  const assets = get('restore-validation:assetsBucketName');
  const helperSg = get('restore-validation:fileSystemMountTargetSecurityGroupId');
  return {
    ...(typeof vpcId === 'string' && vpcId ? { vpcId } : {}),
    ...(typeof assets === 'string' && assets ? { synthesizer: assetsBucketSynthesizer(assets) } : {}),
    validation: {
      ...(typeof configPath === 'string' && configPath ? { configPath } : {}),
      ...(types ? { resourceTypes: types as ValidatorType[] } : {}),
      ...(plans ? { restoreTestingPlanArns: plans } : {}),
      ...(dryRun === true || dryRun === 'true' ? { dryRun: true } : {}),
      ...(typeof helper === 'string' && helper
        ? {
            fileSystemHelper: {
              instanceId: helper,
              ...(typeof helperSg === 'string' && helperSg ? { mountTargetSecurityGroupId: helperSg } : {}),
            },
          }
        : {}),
    },
  };
}

/**
 * For a template deployed without `cdk deploy` (CloudFormation StackSets, docs/operations.md): the
 * Lambda code comes from a bucket of your own (name may hold `${AWS::Region}`, one bucket per region),
 * published with `cdk publish-assets` under the caller's credentials. The template then needs no
 * CDK bootstrap in the target accounts: no bootstrap bucket, roles or `BootstrapVersion` parameter.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/customize-synth.html
 */
export function assetsBucketSynthesizer(bucketName: string): CliCredentialsStackSynthesizer {
  return new CliCredentialsStackSynthesizer({
    fileAssetsBucketName: bucketName,
    bucketPrefix: 'restore-validation/',
  });
}
