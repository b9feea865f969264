/**
 * The deployable stack: one `RestoreValidation` per account and region. Settings come from CDK
 * context (`cdk.json` or `-c key=value`), so a fresh clone synthesizes with no arguments.
 */
import { Stack, type StackProps, aws_ec2 as ec2 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ValidatorType } from '../shared/resource-types';
import { RestoreValidation, type RestoreValidationProps } from './restore-validation';

export interface RestoreValidationStackProps extends StackProps {
  /** Passed to the construct as is. @default - construct defaults */
  readonly validation?: RestoreValidationProps;
  /**
   * Look up this VPC (by id) for the database validators. Needs credentials at synth (the lookup
   * is cached in cdk.context.json afterwards).
   * @default - no VPC
   */
  readonly vpcId?: string;
}

export class RestoreValidationStack extends Stack {
  readonly validation: RestoreValidation;

  constructor(scope: Construct, id: string, props: RestoreValidationStackProps = {}) {
    super(scope, id, props);
    const vpc = props.vpcId ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId }) : undefined;
    this.validation = new RestoreValidation(this, 'RestoreValidation', {
      ...props.validation,
      ...(vpc ? { vpc } : {}),
    });
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
  return {
    ...(typeof vpcId === 'string' && vpcId ? { vpcId } : {}),
    validation: {
      ...(typeof configPath === 'string' && configPath ? { configPath } : {}),
      ...(types ? { resourceTypes: types as ValidatorType[] } : {}),
      ...(plans ? { restoreTestingPlanArns: plans } : {}),
      ...(dryRun === true || dryRun === 'true' ? { dryRun: true } : {}),
    },
  };
}
