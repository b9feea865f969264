/**
 * `RestoreTesting`: the restore testing plans and selections of the config's `restoreTesting`
 * section, with the role AWS Backup restores with and the metadata overrides each validator needs
 * filled in from what the stack knows (docs/restore-testing.md).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
import {
  Annotations,
  aws_backup as backup,
  type aws_ec2 as ec2,
  aws_iam as iam,
  type aws_rds as rds,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { matchProfile } from '../../shared/config/match';
import {
  DATABASE_RESOURCE_TYPES,
  type ProtectedResourceType,
  protectedResourceConditions,
  type RestoreTestingConfig,
  type RestoreTestingSelectionConfig,
} from '../../shared/config/restore-testing';
import type { Config } from '../../shared/config/schema';

export interface RestoreTestingProps {
  /** The validated `restoreTesting` section. */
  readonly restoreTesting: RestoreTestingConfig;
  /** The whole config: profiles decide IAM database auth and whether EC2 checks need SSM. */
  readonly config: Config;
  /** Security group of the database validators: restored databases get it (`vpcSecurityGroupIds`). @default - none */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** DB subnet group restores should use (`dbSubnetGroupName`). @default - none */
  readonly dbSubnetGroup?: rds.ISubnetGroup;
  /**
   * AZ restored EBS volumes land in (`availabilityZone`): one where the EBS helper has a subnet.
   * @default - none (AWS Backup picks a random AZ)
   */
  readonly ebsAvailabilityZone?: string;
}

/** Metadata override keys, as restore testing spells them. */
export const OVERRIDE_KEYS = {
  securityGroups: 'vpcSecurityGroupIds',
  subnetGroup: 'dbSubnetGroupName',
  iamAuth: 'enableIamDatabaseAuthentication',
  instanceProfile: 'iamInstanceProfileName',
  availabilityZone: 'availabilityZone',
} as const;

/** The value that keeps the backed-up instance profile on a restored EC2 instance. */
export const USE_BACKED_UP_VALUE = 'UseBackedUpValue';

export class RestoreTesting extends Construct {
  /** The role AWS Backup restores with (created unless the config names one). */
  readonly role: iam.IRole;
  readonly plans: Readonly<Record<string, backup.CfnRestoreTestingPlan>>;
  readonly selections: readonly backup.CfnRestoreTestingSelection[];

  constructor(scope: Construct, id: string, props: RestoreTestingProps) {
    super(scope, id);
    const rt = props.restoreTesting;
    const types = new Set(rt.plans.flatMap((p) => p.selections.map((s) => s.resourceType)));
    this.role = rt.iamRoleArn
      ? iam.Role.fromRoleArn(this, 'RestoreRole', rt.iamRoleArn, { mutable: false })
      : this.createRole(types);

    const plans: Record<string, backup.CfnRestoreTestingPlan> = {};
    const selections: backup.CfnRestoreTestingSelection[] = [];
    for (const plan of rt.plans) {
      const cfnPlan = new backup.CfnRestoreTestingPlan(this, `Plan${plan.name}`, {
        restoreTestingPlanName: plan.name,
        scheduleExpression: plan.schedule,
        scheduleExpressionTimezone: plan.timezone,
        startWindowHours: plan.startWindowHours,
        recoveryPointSelection: {
          algorithm: plan.recoveryPoints.algorithm,
          includeVaults: plan.recoveryPoints.includeVaults,
          excludeVaults: plan.recoveryPoints.excludeVaults,
          recoveryPointTypes: plan.recoveryPoints.types,
          selectionWindowDays: plan.recoveryPoints.selectionWindowDays,
        },
      });
      plans[plan.name] = cfnPlan;
      for (const sel of plan.selections) {
        const overrides = this.overridesFor(plan.name, sel, props);
        const conditions = protectedResourceConditions(sel.conditions);
        const cfnSel = new backup.CfnRestoreTestingSelection(this, `Selection${plan.name}${sel.name}`, {
          restoreTestingPlanName: cfnPlan.ref,
          restoreTestingSelectionName: sel.name,
          protectedResourceType: sel.resourceType,
          iamRoleArn: this.role.roleArn,
          validationWindowHours: sel.validationWindowHours,
          ...(sel.resourceArns ? { protectedResourceArns: sel.resourceArns } : {}),
          ...(conditions
            ? {
                protectedResourceConditions: {
                  stringEquals: conditions.StringEquals?.map((c) => ({ key: c.Key, value: c.Value })),
                  stringNotEquals: conditions.StringNotEquals?.map((c) => ({ key: c.Key, value: c.Value })),
                },
              }
            : {}),
          ...(Object.keys(overrides).length ? { restoreMetadataOverrides: overrides } : {}),
        });
        cfnSel.addDependency(cfnPlan);
        selections.push(cfnSel);
      }
    }
    this.plans = plans;
    this.selections = selections;
  }

  /**
   * The overrides a selection gets: what the validators need first, the user's own on top (they win).
   * Without them a database lands in the default VPC where no validator reaches it, an EC2 instance
   * has no instance profile (so no SSM), and an EBS volume lands in a random AZ.
   */
  private overridesFor(
    planName: string,
    sel: RestoreTestingSelectionConfig,
    props: RestoreTestingProps,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    const stack = Stack.of(this);
    const where = `restoreTesting plan ${planName} selection ${sel.name}`;
    const type = sel.resourceType;
    if (DATABASE_RESOURCE_TYPES.includes(type)) {
      if (props.securityGroup && props.dbSubnetGroup) {
        out[OVERRIDE_KEYS.securityGroups] = stack.toJsonString([props.securityGroup.securityGroupId]);
        out[OVERRIDE_KEYS.subnetGroup] = props.dbSubnetGroup.subnetGroupName;
      } else if (!sel.overrides?.[OVERRIDE_KEYS.subnetGroup]) {
        Annotations.of(this).addWarningV2(
          'restore-validation:restoreTestingNoVpc',
          `${where} restores ${type} but the stack has no vpc: the database lands in the default VPC where the validators cannot reach it. Pass vpc to RestoreValidation, or set overrides.${OVERRIDE_KEYS.subnetGroup} and overrides.${OVERRIDE_KEYS.securityGroups}.`,
        );
      }
      if ((type === 'RDS' || type === 'Aurora') && usesIamAuth(props.config, type, planName, sel))
        out[OVERRIDE_KEYS.iamAuth] = 'true';
    }
    // The built-in SSM ping and the command/http checks all need an instance profile.
    if (type === 'EC2') out[OVERRIDE_KEYS.instanceProfile] = USE_BACKED_UP_VALUE;
    if (type === 'EBS' && props.ebsAvailabilityZone)
      out[OVERRIDE_KEYS.availabilityZone] = props.ebsAvailabilityZone;
    return { ...out, ...sel.overrides };
  }

  /**
   * The restore role: AWS Backup's managed restore policies (what the console's default role has),
   * plus PassRole to EC2 for selections that keep the backed-up instance profile.
   * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html
   */
  private createRole(types: ReadonlySet<ProtectedResourceType>): iam.Role {
    const role = new iam.Role(this, 'RestoreRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup restores restore-testing recovery points with this role (restore-validation)',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores'),
        ...(types.has('S3')
          ? [iam.ManagedPolicy.fromAwsManagedPolicyName('AWSBackupServiceRolePolicyForS3Restore')]
          : []),
      ],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
      reason:
        'AWS Backup restores need the service restore policy AWS maintains as services add restore features; a hand-copied policy would fall behind',
    });
    if (types.has('S3'))
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore]',
        reason: 'S3 restores need the S3 restore policy AWS maintains for AWS Backup',
      });
    if (types.has('EC2')) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PassBackedUpInstanceProfileRole',
          actions: ['iam:PassRole'],
          resources: ['*'],
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'restoring EC2 with iamInstanceProfileName UseBackedUpValue passes whatever role the backed-up instance had; limited to passing roles to EC2',
      });
    }
    return role;
  }
}

/** Whether the profile the selection's restores match uses IAM database authentication. */
function usesIamAuth(
  config: Config,
  type: ProtectedResourceType,
  planName: string,
  sel: RestoreTestingSelectionConfig,
): boolean {
  const arns = sel.resourceArns?.filter((a) => a !== '*') ?? [];
  const candidates = arns.length
    ? arns.map((arn) =>
        matchProfile(config, {
          resourceType: type,
          sourceResourceArn: arn,
          restoreTestingPlanName: planName,
        }),
      )
    : config.profiles.filter((p) => matchesType(p.match.resourceType, type));
  return candidates.some((p) => p?.connection?.iamAuth === true);
}

function matchesType(given: string | readonly string[] | undefined, type: string): boolean {
  return given === undefined || [given].flat().includes(type);
}
