/**
 * Content checks (`paths`, `files`, `directory`, `freeSpace`) for network file systems (EFS, FSx for
 * Lustre / OpenZFS): they need the file system mounted on a helper instance. Until a helper is configured
 * every such check ends as `error` with the reason — never a silent pass.
 */
import { type CheckDefinition, errored } from '../../shared/checks';
import type { CheckConfig } from '../../shared/config/index';
import type { ValidationContext } from '../../shared/validator';

export const FILESYSTEM_KINDS = ['paths', 'files', 'directory', 'freeSpace'] as const;

export interface ContentTarget {
  readonly kind: 'efs' | 'fsx-lustre' | 'fsx-openzfs' | 'fsx-other';
  readonly fileSystemId: string;
  readonly mountTargets?: readonly { id: string; subnetId?: string; availabilityZone?: string; state?: string }[];
  /** DNS name to mount (FSx), or derived from the id and region (EFS). */
  readonly dnsName?: string;
  /** Lustre mount name; OpenZFS root volume path. */
  readonly mountName?: string;
}

export interface ContentPlan {
  readonly target: ContentTarget;
  /** The profile's file-system checks. */
  readonly checks: readonly CheckConfig[];
  /** Why the content checks cannot run here, when they cannot. */
  readonly blocked?: string;
}

/** The profile's content checks for this file system and whether they can run. */
export function planContent(ctx: ValidationContext, target: ContentTarget): ContentPlan {
  const checks = (ctx.profile?.checks ?? []).filter((c) => (FILESYSTEM_KINDS as readonly string[]).includes(c.kind));
  return { target, checks, blocked: checks.length ? 'content checks need the file system mounted on a helper instance, which is not configured' : undefined };
}

/** One check per profile content check; each says why it did not run when it could not. */
export function contentChecks<F>(ctx: ValidationContext, plan: (facts: F) => ContentPlan): CheckDefinition<F>[] {
  return (ctx.profile?.checks ?? [])
    .filter((c) => (FILESYSTEM_KINDS as readonly string[]).includes(c.kind))
    .map((c) => ({
      id: c.id,
      run: (facts: F) => errored(`${c.kind} check not run: ${plan(facts).blocked ?? 'no helper result'}`),
    }));
}
