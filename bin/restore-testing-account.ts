/**
 * What `doctor` and `run-test` read about restore testing: the selections (from the config's
 * `restoreTesting` section or from the account), the protected resources a selection covers, the
 * recovery point a test would restore, and the metadata AWS Backup would restore it with.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_GetRestoreTestingInferredMetadata.html
 */
import {
  type BackupClient,
  GetRestoreTestingInferredMetadataCommand,
  GetRestoreTestingPlanCommand,
  GetRestoreTestingSelectionCommand,
  paginateListProtectedResources,
  paginateListRecoveryPointsByResource,
  paginateListRestoreTestingPlans,
  paginateListRestoreTestingSelections,
} from '@aws-sdk/client-backup';
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  paginateGetResources,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import type { Command } from 'commander';
import type { Config } from '../shared/config/index';
import {
  type KeyValue,
  protectedResourceConditions,
  type StackFacts,
  validatorOverrides,
} from '../shared/config/restore-testing';
import { reasonOf } from '../shared/errors';
import { RestoreMetadata } from '../shared/metadata';

/** A selection as doctor/run-test see it, whichever its source. */
export interface SelectionView {
  readonly plan: string;
  readonly selection: string;
  readonly resourceType: string;
  readonly source: 'config' | 'account';
  readonly resourceArns?: readonly string[];
  readonly conditions?: { StringEquals?: readonly KeyValue[]; StringNotEquals?: readonly KeyValue[] };
  readonly validationWindowHours: number;
  /** RestoreMetadataOverrides the selection restores with. */
  readonly overrides: Readonly<Record<string, string>>;
  readonly iamRoleArn?: string;
  readonly recoveryPoints: {
    readonly includeVaults: readonly string[];
    readonly excludeVaults: readonly string[];
    readonly types: readonly string[];
    readonly selectionWindowDays: number;
  };
}

/** Selections of the config's `restoreTesting` section, with the overrides the stack would fill in. */
export function selectionsFromConfig(config: Config, facts: StackFacts): SelectionView[] {
  return (config.restoreTesting?.plans ?? []).flatMap((plan) =>
    plan.selections.map((sel) => ({
      plan: plan.name,
      selection: sel.name,
      resourceType: sel.resourceType,
      source: 'config' as const,
      resourceArns: sel.resourceArns,
      conditions: protectedResourceConditions(sel.conditions),
      validationWindowHours: sel.validationWindowHours,
      overrides: validatorOverrides(config, plan.name, sel, facts),
      iamRoleArn: config.restoreTesting?.iamRoleArn,
      recoveryPoints: {
        includeVaults: plan.recoveryPoints.includeVaults,
        excludeVaults: plan.recoveryPoints.excludeVaults ?? [],
        types: plan.recoveryPoints.types,
        selectionWindowDays: plan.recoveryPoints.selectionWindowDays,
      },
    })),
  );
}

/** Selections as deployed in the account (List/Get RestoreTestingPlan(s) and Selection(s)). */
export async function selectionsFromAccount(backup: BackupClient): Promise<SelectionView[]> {
  const out: SelectionView[] = [];
  for await (const plans of paginateListRestoreTestingPlans({ client: backup }, {})) {
    for (const p of plans.RestoreTestingPlans ?? []) {
      const name = p.RestoreTestingPlanName ?? '';
      const { RestoreTestingPlan: plan } = await backup.send(
        new GetRestoreTestingPlanCommand({ RestoreTestingPlanName: name }),
      );
      const rps = plan?.RecoveryPointSelection;
      for await (const sels of paginateListRestoreTestingSelections(
        { client: backup },
        { RestoreTestingPlanName: name },
      )) {
        for (const s of sels.RestoreTestingSelections ?? []) {
          const { RestoreTestingSelection: sel } = await backup.send(
            new GetRestoreTestingSelectionCommand({
              RestoreTestingPlanName: name,
              RestoreTestingSelectionName: s.RestoreTestingSelectionName,
            }),
          );
          out.push({
            plan: name,
            selection: sel?.RestoreTestingSelectionName ?? '',
            resourceType: sel?.ProtectedResourceType ?? '',
            source: 'account',
            resourceArns: sel?.ProtectedResourceArns,
            conditions: sel?.ProtectedResourceConditions as SelectionView['conditions'],
            validationWindowHours: sel?.ValidationWindowHours ?? 24,
            overrides: sel?.RestoreMetadataOverrides ?? {},
            iamRoleArn: sel?.IamRoleArn,
            recoveryPoints: {
              includeVaults: rps?.IncludeVaults ?? ['*'],
              excludeVaults: rps?.ExcludeVaults ?? [],
              types: rps?.RecoveryPointTypes ?? ['CONTINUOUS', 'SNAPSHOT'],
              selectionWindowDays: rps?.SelectionWindowDays ?? 30,
            },
          });
        }
      }
    }
  }
  return out;
}

/** The flags doctor and run-test share to say where the validators' network settings come from. */
export function stackOptions(cmd: Command): Command {
  return cmd
    .option(
      '--stack-name <name>',
      "deployed stack whose outputs name the validators' security group",
      'RestoreValidation',
    )
    .option('--security-group-id <id>', "the validators' security group (default: from the stack outputs)")
    .option(
      '--db-subnet-group <name>',
      'the DB subnet group restores should use (default: from the stack outputs)',
    );
}

export interface StackOptionValues {
  readonly stackName: string;
  readonly securityGroupId?: string;
  readonly dbSubnetGroup?: string;
}

/**
 * The flags first, then the deployed stack's outputs for what they leave open. A stack that cannot be
 * read is a note (the checks that need its facts say so), not an error.
 */
export async function resolveStackFacts(
  cfn: CloudFormationClient,
  o: StackOptionValues,
  note: (line: string) => void,
): Promise<StackFacts> {
  const given: StackFacts = { securityGroupId: o.securityGroupId, dbSubnetGroupName: o.dbSubnetGroup };
  if (given.securityGroupId && given.dbSubnetGroupName) return given;
  try {
    const fromStack = await stackFacts(cfn, o.stackName);
    return {
      securityGroupId: given.securityGroupId ?? fromStack.securityGroupId,
      dbSubnetGroupName: given.dbSubnetGroupName ?? fromStack.dbSubnetGroupName,
    };
  } catch (err) {
    note(
      `note: stack ${o.stackName} not read (${reasonOf(err)}); pass --security-group-id and --db-subnet-group\n`,
    );
    return given;
  }
}

/**
 * The validators' security group and DB subnet group from the deployed stack's outputs
 * (infra/restore-validation.ts writes them when the stack has a vpc); empty when there is no stack.
 */
async function stackFacts(cfn: CloudFormationClient, stackName: string): Promise<StackFacts> {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = Stacks?.[0]?.Outputs ?? [];
  const find = (part: string) => outputs.find((o) => o.OutputKey?.includes(part))?.OutputValue;
  return { securityGroupId: find('ValidatorSecurityGroupId'), dbSubnetGroupName: find('DbSubnetGroupName') };
}

/** The protected resources a selection covers: its ARNs, or every protected resource of its type matching the tag conditions. */
export async function resourcesOf(
  sel: SelectionView,
  backup: BackupClient,
  tagging: ResourceGroupsTaggingAPIClient,
): Promise<string[]> {
  const explicit = (sel.resourceArns ?? []).filter((a) => a !== '*');
  if (explicit.length) return explicit;
  const ofType: string[] = [];
  for await (const page of paginateListProtectedResources({ client: backup }, {}))
    for (const r of page.Results ?? [])
      if (r.ResourceType === sel.resourceType && r.ResourceArn) ofType.push(r.ResourceArn);
  if (!sel.conditions) return ofType;
  let selected = new Set(ofType);
  for (const c of sel.conditions.StringEquals ?? []) {
    const tagged = await taggedWith(tagging, c);
    selected = new Set([...selected].filter((a) => tagged.has(a)));
  }
  for (const c of sel.conditions.StringNotEquals ?? []) {
    const tagged = await taggedWith(tagging, c);
    selected = new Set([...selected].filter((a) => !tagged.has(a)));
  }
  return [...selected];
}

async function taggedWith(tagging: ResourceGroupsTaggingAPIClient, c: KeyValue): Promise<Set<string>> {
  const key = c.Key.replace(/^aws:ResourceTag\//, '');
  const arns = new Set<string>();
  for await (const page of paginateGetResources(
    { client: tagging },
    { TagFilters: [{ Key: key, Values: [c.Value] }] },
  ))
    for (const r of page.ResourceTagMappingList ?? []) if (r.ResourceARN) arns.add(r.ResourceARN);
  return arns;
}

export interface RecoveryPointView {
  readonly recoveryPointArn: string;
  readonly backupVaultName: string;
  readonly creationDate: Date;
}

/** Whether a vault (by name) is one the plan's recovery point selection includes and does not exclude. */
function vaultSelected(name: string, include: readonly string[], exclude: readonly string[]): boolean {
  const is = (pattern: string) =>
    pattern === '*' || pattern === name || pattern.endsWith(`:backup-vault:${name}`);
  return include.some(is) && !exclude.some(is);
}

/**
 * The newest completed recovery point inside the plan's selection window and vaults (what
 * LATEST_WITHIN_WINDOW restores), and the newest one at all (to say how far outside it is).
 */
export async function latestRecoveryPoint(
  backup: BackupClient,
  resourceArn: string,
  sel: SelectionView,
  now: Date,
): Promise<{ inWindow?: RecoveryPointView; newest?: RecoveryPointView }> {
  const points: RecoveryPointView[] = [];
  for await (const page of paginateListRecoveryPointsByResource(
    { client: backup },
    { ResourceArn: resourceArn },
  )) {
    for (const rp of page.RecoveryPoints ?? []) {
      if (!rp.RecoveryPointArn || !rp.BackupVaultName || !rp.CreationDate) continue;
      if (rp.Status && !['COMPLETED', 'AVAILABLE'].includes(rp.Status)) continue;
      if (
        !vaultSelected(rp.BackupVaultName, sel.recoveryPoints.includeVaults, sel.recoveryPoints.excludeVaults)
      )
        continue;
      points.push({
        recoveryPointArn: rp.RecoveryPointArn,
        backupVaultName: rp.BackupVaultName,
        creationDate: rp.CreationDate,
      });
    }
  }
  points.sort((a, b) => b.creationDate.getTime() - a.creationDate.getTime());
  const since = now.getTime() - sel.recoveryPoints.selectionWindowDays * 86_400_000;
  return { newest: points[0], inWindow: points.find((p) => p.creationDate.getTime() >= since) };
}

/** What AWS Backup would restore with: the inferred metadata with the selection's overrides on top (any key case). */
export async function restoreMetadata(
  backup: BackupClient,
  rp: RecoveryPointView,
  overrides: Readonly<Record<string, string>>,
): Promise<{ inferred: RestoreMetadata; effective: RestoreMetadata }> {
  const { InferredMetadata } = await backup.send(
    new GetRestoreTestingInferredMetadataCommand({
      BackupVaultName: rp.backupVaultName,
      RecoveryPointArn: rp.recoveryPointArn,
    }),
  );
  const inferred = InferredMetadata ?? {};
  const lower = new Set(Object.keys(overrides).map((k) => k.toLowerCase()));
  const merged: Record<string, string> = Object.fromEntries(
    Object.entries(inferred).filter(([k]) => !lower.has(k.toLowerCase())),
  );
  Object.assign(merged, overrides);
  return { inferred: new RestoreMetadata(inferred), effective: new RestoreMetadata(merged) };
}
