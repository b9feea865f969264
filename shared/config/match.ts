import { UsageError } from '../errors';
import { compileGlob, type LinearRegex } from '../regex';
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

// Globs run on RE2 (linear time): a backtracking glob engine takes minutes on `*a*a*a*a*a*a*a*a*a*b`
// against a long ARN. `*` spans '/' and ':' as users expect of ARNs. Compiled once per pattern.
const compiled = new Map<string, LinearRegex>();
const glob = (pattern: string, value: string | undefined): boolean => {
  if (value === undefined) return false;
  let re = compiled.get(pattern);
  if (!re) {
    re = compileGlob(pattern);
    compiled.set(pattern, re);
  }
  return re.test(value);
};

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

/** The profile a local `check <type>` runs, and a note for the operator when the pick needs saying. */
export interface LocalProfilePick {
  readonly profile?: Profile;
  readonly note?: string;
}

const typesOf = (p: Profile): readonly string[] | undefined => many(p.match.resourceType);

/**
 * Picks the profile for a local `restore-validation check <type>` (every type uses this one rule).
 * Locally there is no restore job, so the match keys that only a job has (source and created ARNs,
 * restore testing plan) cannot decide: `--config-profile NAME` names one; else the profiles for the
 * resource type (those whose `match.resourceType` includes it, or that name no type) are the
 * candidates — one is picked, none means only built-in checks run, and more than one is a usage
 * error naming them, so that a check never passes on built-in checks while the config holds a
 * profile that was meant to run.
 * @throws UsageError for an unknown `--config-profile` or an ambiguous pick
 */
export function pickLocalProfile(
  config: Config,
  input: { readonly resourceType: string; readonly profileName?: string; readonly configFile: string },
): LocalProfilePick {
  const names = config.profiles.map((p) => p.name);
  if (input.profileName !== undefined) {
    const profile = profileByName(config, input.profileName);
    if (!profile)
      throw new UsageError(
        `no profile named ${JSON.stringify(input.profileName)} in ${input.configFile}; profiles: ${names.join(', ') || '(none)'}`,
      );
    return { profile };
  }
  const type = input.resourceType.toLowerCase();
  const candidates = config.profiles.filter((p) => {
    const types = typesOf(p);
    return !types || types.some((t) => t.toLowerCase() === type);
  });
  if (candidates.length === 0)
    return {
      note: `no profile in ${input.configFile} is for resource type ${input.resourceType}${names.length ? ` (profiles: ${names.join(', ')})` : ''}; only built-in checks run (use --config-profile NAME to run another)`,
    };
  if (candidates.length > 1)
    throw new UsageError(
      `${candidates.length} profiles in ${input.configFile} are for resource type ${input.resourceType} (${candidates.map((p) => p.name).join(', ')}): pick one with --config-profile NAME`,
    );
  const profile = candidates[0] as Profile;
  const m = profile.match;
  const ignored = (
    [
      ['sourceResourceArn', m.sourceResourceArn],
      ['createdResourceArn', m.createdResourceArn],
      ['restoreTestingPlan', m.restoreTestingPlan],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  return {
    profile,
    note: ignored.length
      ? `profile ${profile.name} picked as the only one for resource type ${input.resourceType}; its match keys ${ignored.join(', ')} apply to restore jobs only`
      : undefined,
  };
}
