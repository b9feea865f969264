import picomatch from 'picomatch';
import type { Config, Profile } from './schema';

/** What a profile is matched against. */
export interface MatchSubject {
  readonly resourceType: string;
  readonly sourceResourceArn?: string;
  readonly createdResourceArn?: string;
  /** Plan name (not ARN) for restore tests; undefined for manual restores. */
  readonly restoreTestingPlanName?: string;
}

const many = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? (v as readonly T[]) : [v as T];

// ARNs contain '/' (table/..., volume/...): fold it so that '*' spans the whole ARN, as users expect.
const SLASH = '\u0001';
const glob = (pattern: string, value: string | undefined): boolean =>
  value !== undefined &&
  picomatch.isMatch(value.replaceAll('/', SLASH), pattern.replaceAll('/', SLASH), { dot: true });

function matches(profile: Profile, subject: MatchSubject): boolean {
  const m = profile.match;
  const types = many(m.resourceType);
  if (types && !types.some((t) => t.toLowerCase() === subject.resourceType.toLowerCase())) return false;
  const checks: Array<[readonly string[] | undefined, string | undefined]> = [
    [many(m.sourceResourceArn), subject.sourceResourceArn],
    [many(m.createdResourceArn), subject.createdResourceArn],
    [many(m.restoreTestingPlan), subject.restoreTestingPlanName],
  ];
  return checks.every(([patterns, value]) => !patterns || patterns.some((p) => glob(p, value)));
}

/** The first profile whose every given match key matches, or undefined. */
export function matchProfile(config: Config, subject: MatchSubject): Profile | undefined {
  return config.profiles.find((p) => matches(p, subject));
}

/** Finds a profile by name (CLI `--config-profile`). */
export function profileByName(config: Config, name: string): Profile | undefined {
  return config.profiles.find((p) => p.name === name);
}
