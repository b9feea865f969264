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
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DATABASE_RESOURCE_TYPES,
  OVERRIDE_KEYS,
  type ProtectedResourceType,
  protectedResourceConditions,
  type RestoreTestingConfig,
  type RestoreTestingSelectionConfig,
  validatorOverrides,
} from '../../shared/config/restore-testing';
import type { Config } from '../../shared/config/schema';
import { allow } from '../core';

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

  /** The validators' overrides for a selection; warns when a database would land out of reach. */
  private overridesFor(
    planName: string,
    sel: RestoreTestingSelectionConfig,
    props: RestoreTestingProps,
  ): Record<string, string> {
    const facts =
      props.securityGroup && props.dbSubnetGroup
        ? {
            securityGroupId: props.securityGroup.securityGroupId,
            dbSubnetGroupName: props.dbSubnetGroup.subnetGroupName,
          }
        : {};
    if (
      DATABASE_RESOURCE_TYPES.includes(sel.resourceType) &&
      !facts.securityGroupId &&
      !sel.overrides?.[OVERRIDE_KEYS.subnetGroup]
    ) {
      Annotations.of(this).addWarningV2(
        'restore-validation:restoreTestingNoVpc',
        `restoreTesting plan ${planName} selection ${sel.name} restores ${sel.resourceType} but the stack has no vpc: the database lands in the default VPC where the validators cannot reach it. Pass vpc to RestoreValidation, or set overrides.${OVERRIDE_KEYS.subnetGroup} and overrides.${OVERRIDE_KEYS.securityGroups}.`,
      );
    }
    return validatorOverrides(props.config, planName, sel, {
      ...facts,
      ebsAvailabilityZone: props.ebsAvailabilityZone,
    });
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
      allow(role, {
        sid: 'PassBackedUpInstanceProfileRole',
        actions: ['iam:PassRole'],
        resources: ['*'],
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        why: 'restoring EC2 with iamInstanceProfileName UseBackedUpValue passes whatever role the backed-up instance had; limited to passing roles to EC2',
      });
    }
    return role;
  }
}
