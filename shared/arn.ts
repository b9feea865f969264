/** ARN parsing: `arn:partition:service:region:account:resource`, resource split into type and id. */
import { parse, validate } from '@aws-sdk/util-arn-parser';

export interface ParsedArn {
  readonly arn: string;
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly accountId: string;
  /** Everything after the account, e.g. `db:orders-prod`, `table/sessions`, `bucket-name`. */
  readonly resource: string;
  /** `db`, `cluster`, `table`, `volume`, `instance`, `file-system`; '' for S3 buckets. */
  readonly resourceType: string;
  /** The name or id: `orders-prod`, `sessions`, `vol-0abc…`, the bucket name. */
  readonly resourceId: string;
}

/** The SDK's parser splits the six fields; the resource's type/id split is ours (it differs by service). */
export function parseArn(arn: string): ParsedArn | undefined {
  if (!validate(arn)) return undefined;
  const { partition, service, region, accountId, resource } = parse(arn);
  const m = /^([A-Za-z0-9-]+)[/:](.+)$/.exec(resource);
  // S3 bucket ARNs have no resource type: `arn:aws:s3:::bucket`.
  const [resourceType, resourceId] =
    service === 's3' && !resource.includes('/')
      ? ['', resource]
      : m
        ? [m[1] ?? '', m[2] ?? '']
        : ['', resource];
  return { arn, partition, service, region, accountId, resource, resourceType, resourceId };
}
