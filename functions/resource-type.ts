/**
 * What a validator type is besides its handler, in one record per type (`functions/<type>/type.ts`,
 * gathered in functions/types.ts, which the compiler checks covers every type of
 * shared/resource-types.ts). `ResourceTypeModule` is the checklist for a new type: its required
 * fields are what the type must decide.
 *
 * Read by infra (the construct) and bin (the CLI), never by a Lambda: no handler or validator imports
 * a type module, so IAM statements stay out of the bundles. Nor does a module load aws-cdk-lib or a
 * driver: the CLI reads the table at startup. So infra hands in its CDK tokens (`TypeContext.aws`),
 * infra types come in as `import type`, and CLI targets load on demand.
 */
import type { ConfigAccess } from '../infra/config-access';
import type { FileSystemHelperSettings } from '../infra/constructs/file-system-helper';
import type { AllowSpec } from '../infra/core';
import type { CheckKind } from '../shared/config/kinds/registry';
import { CREATED_BY_TAG } from '../shared/guard';
import type { LocalTarget } from '../shared/local';
import type { ValidatorDefinition } from '../shared/validator';

/** The stack's partition, region and account: CDK's `Aws` tokens, handed in by infra. */
export interface StackAws {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

/** What a type's module may read to build its statements. */
export interface TypeContext {
  /** Where ARNs point: the stack's partition, region and account. */
  readonly aws: StackAws;
  /** The resources the config names for this type (secrets, functions, source buckets, ...). */
  readonly access: ConfigAccess;
  /** KMS keys of compared S3 objects (`RestoreValidationProps.s3KmsKeyArns`). @default - any key, through S3 only */
  readonly s3KmsKeyArns?: readonly string[];
  /** The operator's helper instance for EFS/FSx content checks. @default - none */
  readonly fileSystemHelper?: FileSystemHelperSettings;
}

/** What a type's `compare` checks read besides the restored resource. */
export type CompareSource = 'bucket' | 'table';

/** Everything about one validator type that infra and the CLI look up (its handler aside). */
export interface ResourceTypeModule {
  /**
   * The type's validator (`functions/<type>/validator.ts`), loaded on demand: what `replay` and
   * `run-test` run, and what `functions/<type>/handler.ts` wraps in the lifecycle.
   */
  readonly validator: () => Promise<ValidatorDefinition<unknown, object>>;
  /**
   * The check kinds the validator implements (every validator also runs `lambda`): the type's own,
   * from its kinds.ts beside the validator, and its family's. The config validation reads each kind's
   * `resourceTypes`; test/spine/type-modules.test.ts holds the two to each other.
   */
  readonly checkKinds: readonly CheckKind[];
  /**
   * Default timeout in minutes (Lambda allows 15 at most); the construct's `timeout` and
   * `functionSettings` override it.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
   */
  readonly timeoutMinutes: number;
  /** Default memory (MB); the construct's `memorySize` and `functionSettings` override it. @default 1024 */
  readonly memorySize?: number;
  /**
   * The validator opens database connections, so it runs in the construct's VPC (with the
   * validator security group) when one is given.
   */
  readonly database: boolean;
  /**
   * Read permissions (and, where a validator must create helpers, tag-conditioned create/delete),
   * scoped to restore-test resources by name where the service allows it and to what the config
   * names. Custom validators of the type get them too.
   */
  readonly statements: (ctx: TypeContext) => AllowSpec[];
  /**
   * What `compare` checks of this type read besides the restored resource: source buckets (names or
   * patterns from `compare.sourceBucket` / `match.sourceResourceArn`) or source tables. The config's
   * sources land in `ConfigAccess.sourceBuckets` / `sourceTables` for the statements to scope.
   * @default - none (compare checks read only manifests)
   */
  readonly compareSource?: CompareSource;
  /**
   * Content checks run on the operator's file-system helper instance
   * (infra/constructs/file-system-helper.ts): the built-in validator gets the path-check program
   * beside its handler, the helper in its environment and the grants to run it there.
   * @default false
   */
  readonly usesFileSystemHelper?: boolean;
  /**
   * `check <type>`: loads the type's CLI target (`() => import('./cli')`), only when that command
   * runs, so the CLI starts without the type's driver.
   * @default - none (the type runs through `replay` only)
   */
  readonly cli?: () => Promise<{ readonly cliTarget: LocalTarget }>;
}

/** `[statement]`, or nothing when it has no resources (a config that names none). */
export function statement(
  sid: string,
  actions: string[],
  resources: string[],
  why: string,
  conditions?: Record<string, unknown>,
): AllowSpec[] {
  if (resources.length === 0) return [];
  return [{ sid, actions, resources, why, ...(conditions ? { conditions } : {}) }];
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` of this stack. */
export const arn = (aws: StackAws, service: string, resource: string): string =>
  `arn:${aws.partition}:${service}:${aws.region}:${aws.accountId}:${resource}`;

/** An RDS ARN (`db`, `cluster`, `pg`, `og`, `subgrp`) of this stack's account and region. */
export const rdsArn = (aws: StackAws, kind: string, name: string): string =>
  arn(aws, 'rds', `${kind}:${name}`);

/** Only in a request that tags the new resource as the validator's own. */
export const createdByUs = { Null: { [`aws:RequestTag/${CREATED_BY_TAG}`]: 'false' } };
/** Only resources tagged as the validator's own. */
export const ownedByUs = { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } };

export const READ_ONLY_DESCRIBE =
  'read-only Describe/List calls on the restored resource, whose identifier AWS Backup generates at restore time; limited to this account and region';
