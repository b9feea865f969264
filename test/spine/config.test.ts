import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, schemaText } from '../../scripts/gen-schema';
import { loadConfigFile, matchProfile, parseConfigText } from '../../shared/config/index';
import { ConfigError } from '../../shared/errors';

const DESIGN_EXAMPLE = `
version: 1
defaults:
  reportValidating: true
  failWhenNothingChecked: true
profiles:
  - name: orders-db
    match:
      resourceType: RDS
      sourceResourceArn: "arn:aws:rds:*:*:db:orders-*"
      restoreTestingPlan: "nightly_*"
    connection: { database: orders, secretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ro-abc", tls: true }
    checks:
      - id: orders-present
        sql: select count(*) as n from orders
        expect: { n: { min: 1000 } }
      - id: orders-fresh
        freshness: { sql: select max(created_at) from orders, maxAgeMinutes: 90 }
  - name: volumes
    match: { resourceType: EBS }
    checks:
      - { id: app-files, paths: [/etc/app/config.yml, /var/lib/app] }
      - { id: canaries, files: { /var/lib/app/canary.bin: "sha256:${'a'.repeat(64)}" } }
      - { id: enough-data, directory: { path: /var/lib/app/data, minFiles: 1000, minBytes: 1048576 } }
  - name: docs
    match: { resourceType: S3 }
    checks:
      - { id: same-as-source, compare: { with: source, mode: full } }
      - { id: index-present, keys: [reports/index.json] }
      - { id: not-empty, minObjects: 1 }
  - name: tables
    match: { resourceType: [DynamoDB, DynamoDB.FullyManaged] }
    checks:
      - { id: same-as-source, compare: { with: source, sample: 200 } }
      - { id: admin-user, items: [{ pk: "USER#admin" }] }
      - { id: not-empty, minItems: 1 }
      - { id: invariants, lambda: { functionArn: "arn:aws:lambda:us-east-1:123456789012:function:check-invariants", timeoutSeconds: 60 } }
`;

function errorOf(text: string): ConfigError {
  try {
    parseConfigText(text, 'validation.config.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('accepts the example of DESIGN.md for every type, with defaults filled in', () => {
    const config = parseConfigText(DESIGN_EXAMPLE, 'x.yaml');
    expect(config.profiles.map((p) => p.name)).toEqual(['orders-db', 'volumes', 'docs', 'tables']);
    expect(config.profiles[0]?.checks.map((c) => c.kind)).toEqual(['sql', 'freshness']);
    expect(config.profiles[0]?.connection?.statementTimeoutSeconds).toBe(30);
    expect(config.defaults.concurrency).toBe(4);
  });

  it('names the file, the path and suggests the fix for a mistyped top-level key', () => {
    const err = errorOf('version: 1\nprofile: []\n');
    expect(err.message).toBe('validation.config.yaml: unknown key "profile" (did you mean "profiles"?)');
  });

  it('suggests the check kind meant by a typo', () => {
    const err = errorOf('version: 1\nprofiles: [{name: a, checks: [{id: x, sqll: "select 1"}]}]\n');
    expect(err.path).toBe('profiles[0].checks[0]');
    expect(err.message).toContain('"sqll" (did you mean "sql"?)');
  });

  it('rejects a check kind the profile’s resource type cannot run', () => {
    const err = errorOf(
      'version: 1\nprofiles: [{name: a, match: {resourceType: S3}, checks: [{id: x, sql: "select 1 as n", rows: {min: 1}}]}]\n',
    );
    expect(err.path).toBe('profiles[0].checks[0].sql');
    expect(err.message).toContain('not available for resource type S3');
  });

  it('reports a bad value with its path', () => {
    const err = errorOf(
      'version: 1\nprofiles: [{name: a, checks: [{id: x, freshness: {sql: "select 1", maxAgeMinutes: -5}}]}]\n',
    );
    expect(err.path).toBe('profiles[0].checks[0].freshness.maxAgeMinutes');
  });

  it('rejects duplicate check ids and profile names', () => {
    expect(
      errorOf('version: 1\nprofiles: [{name: a, checks: [{id: x, minObjects: 1}, {id: x, minObjects: 2}]}]\n')
        .message,
    ).toContain('duplicate check id "x"');
    expect(errorOf('version: 1\nprofiles: [{name: a}, {name: a}]\n').message).toContain(
      'duplicate profile name',
    );
  });

  it('rejects a check with two kinds', () => {
    expect(
      errorOf('version: 1\nprofiles: [{name: a, checks: [{id: x, minObjects: 1, keys: [a]}]}]\n').message,
    ).toContain('exactly one kind');
  });

  it('rejects a wrong version and broken YAML', () => {
    expect(errorOf('version: 2\n').path).toBe('version');
    expect(errorOf('version: 1\nprofiles: [\n').message).toContain('not valid YAML');
    expect(errorOf('').message).toContain('empty');
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadConfigFile('/nonexistent/validation.config.yaml')).toThrow(
      /\/nonexistent\/validation.config.yaml: cannot read the config file \(ENOENT\)/,
    );
  });

  it('reads JSON as well as YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, profiles: [{ name: 'p', checks: [{ id: 'n', minItems: 3 }] }] }),
    );
    expect(loadConfigFile(file).profiles[0]?.checks[0]?.kind).toBe('minItems');
  });
});

describe('matchProfile', () => {
  const config = parseConfigText(DESIGN_EXAMPLE, 'x.yaml');

  it('matches resource type, source ARN glob and plan name glob together', () => {
    const subject = {
      resourceType: 'RDS',
      sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:orders-prod',
      restoreTestingPlanName: 'nightly_restore_tests',
    };
    expect(matchProfile(config, subject)?.name).toBe('orders-db');
    expect(matchProfile(config, { ...subject, restoreTestingPlanName: 'weekly' })).toBeUndefined();
    expect(
      matchProfile(config, {
        ...subject,
        sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:billing',
      }),
    ).toBeUndefined();
  });

  it('lets * span the slashes of an ARN and matches either of several types', () => {
    const c = parseConfigText(
      'version: 1\nprofiles: [{name: t, match: {sourceResourceArn: "arn:aws:dynamodb:*:table/sess*"}}]\n',
    );
    expect(
      matchProfile(c, {
        resourceType: 'DynamoDB',
        sourceResourceArn: 'arn:aws:dynamodb:us-east-1:1:table/sessions',
      })?.name,
    ).toBe('t');
    expect(matchProfile(config, { resourceType: 'DynamoDB.FullyManaged' })?.name).toBe('tables');
  });

  it('takes the first matching profile', () => {
    const c = parseConfigText(
      'version: 1\nprofiles: [{name: first, match: {resourceType: S3}}, {name: second, match: {resourceType: S3}}]\n',
    );
    expect(matchProfile(c, { resourceType: 'S3' })?.name).toBe('first');
  });
});

describe('JSON Schema', () => {
  it('is committed and up to date with the zod schema (npm run schema)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });
});
