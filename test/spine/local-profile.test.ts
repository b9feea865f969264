import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, pickLocalProfile } from '../../shared/config/index';
import { runCli } from '../support/cli';

const config = parseConfig({
  version: 1,
  profiles: [
    {
      name: 'orders-db',
      match: { resourceType: 'RDS', sourceResourceArn: 'arn:aws:rds:*:*:db:orders-*' },
      checks: [{ id: 'a', sql: 'select 1 as n', expect: { n: { equals: 1 } } }],
    },
    { name: 'media', match: { resourceType: 'S3' }, checks: [{ id: 'm', minObjects: 1 }] },
    {
      name: 'media-eu',
      match: { resourceType: 'S3', restoreTestingPlan: 'eu_*' },
      checks: [{ id: 'n', minObjects: 1 }],
    },
  ],
});
const pick = (resourceType: string, profileName?: string) =>
  pickLocalProfile(config, { resourceType, profileName, configFile: 'v.yaml' });

describe('pickLocalProfile', () => {
  it('picks the only profile for the type and notes the match keys it ignored', () => {
    const r = pick('RDS');
    expect(r.profile?.name).toBe('orders-db');
    expect(r.note).toContain('its match keys sourceResourceArn apply to restore jobs only');
  });

  it('refuses to guess when several profiles are for the type, whatever the type', () => {
    expect(() => pick('S3')).toThrow(
      '2 profiles in v.yaml are for resource type S3 (media, media-eu): pick one with --config-profile NAME',
    );
    expect(pick('S3', 'media-eu').profile?.name).toBe('media-eu');
  });

  it('runs built-in checks only, saying so, when no profile is for the type', () => {
    const r = pick('EBS');
    expect(r.profile).toBeUndefined();
    expect(r.note).toContain('no profile in v.yaml is for resource type EBS');
  });

  it('names the profiles when --config-profile names none of them', () => {
    expect(() => pick('RDS', 'nope')).toThrow('profiles: orders-db, media, media-eu');
  });
});

describe('check <type> without --config-profile', () => {
  it('exits 2 naming the profiles for every type, not only databases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-pick-'));
    try {
      const file = join(dir, 'v.yaml');
      writeFileSync(
        file,
        `version: 1
profiles:
  - { name: media, match: { resourceType: S3 }, checks: [{ id: m, minObjects: 1 }] }
  - { name: media-eu, match: { resourceType: S3, restoreTestingPlan: "eu_*" }, checks: [{ id: n, minObjects: 1 }] }
`,
      );
      const r = await runCli(['check', 's3', '--config', file, '--bucket', 'b', '--json']);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain('2 profiles in');
      expect(r.err).toContain(
        'are for resource type S3 (media, media-eu): pick one with --config-profile NAME',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
