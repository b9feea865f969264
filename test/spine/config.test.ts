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
    expect(err.message).toBe('validation.config.yaml:2:1: unknown key "profile" (did you mean "profiles"?)');
  });

  it('gives line and column of a schema error deep in a block mapping, with a sentence and the fix', () => {
    const err = errorOf(
      'version: 1\ndefaults:\n  reportValidating: true\nprofiles:\n  - name: orders\n    checks:\n      - id: fresh\n        freshness:\n          sql: select max(t) from x\n          maxAgeMinutes: "90"\n',
    );
    expect(err.position).toEqual({ line: 10, column: 11 });
    expect(err.message).toBe(
      'validation.config.yaml:10:11 at profiles[0].checks[0].freshness.maxAgeMinutes: must be a number, got the text "90": write it without quotes: 90',
    );
  });

  it('words the common zod issues as sentences with the fix, each problem with its line', () => {
    const err = errorOf(
      'version: 1\ndefaults:\n  concurrency: 0\n  checkTimeoutSeconds: true\nprofiles:\n  - name: p\n    match: { resourceType: RDZ }\n',
    );
    expect(err.message).toContain(
      'line 3, column 3, defaults.concurrency: must be at least 1, got the number 0: change it to 1 or more',
    );
    expect(err.message).toContain(
      'line 4, column 3, defaults.checkTimeoutSeconds: must be a number, got true',
    );
    expect(err.message).toContain('line 7, column 14, profiles[0].match.resourceType: must be one of "RDS"');
    expect(err.message).toContain('(did you mean "RDS"?)');
    expect(err.message).not.toMatch(/Invalid input|Too small/);
  });

  it('gives line and column of a YAML syntax error', () => {
    expect(errorOf('version: 1\nprofiles: [\n').position).toEqual({ line: 3, column: 1 });
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

describe('config rejects values that cannot work or would check nothing', () => {
  const profile = (body: string) => `version: 1\nprofiles: [{name: a, ${body}}]\n`;

  it('rejects a port above 65535 on the connection and on the source', () => {
    const err = errorOf(profile('connection: {port: 70000}'));
    expect(err.path).toBe('profiles[0].connection.port');
    expect(err.message).toContain('a port is 1-65535');
    expect(errorOf(profile('connection: {source: {host: h, port: 65536}}')).path).toBe(
      'profiles[0].connection.source.port',
    );
    expect(parseConfigText(profile('connection: {port: 65535}')).profiles[0]?.connection?.port).toBe(65535);
  });

  it('rejects a secret ARN that is only a prefix, or names another service', () => {
    for (const arn of [
      'arn:aws:secretsmanager:',
      'arn:aws:secretsmanager:us-east-1:123:secret:x',
      'arn:aws:secretsmanager:us-east-1:123456789012:parameter/x',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:x y',
    ]) {
      const err = errorOf(profile(`connection: {secretArn: "${arn}"}`));
      expect(err.path, arn).toBe('profiles[0].connection.secretArn');
      expect(err.message).toContain('expected a Secrets Manager secret ARN');
    }
    expect(errorOf(profile('connection: {source: {host: h, secretArn: "ro-user"}}')).path).toBe(
      'profiles[0].connection.source.secretArn',
    );
    // RDS-managed secrets carry a "!" in their name.
    const managed = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf';
    expect(
      parseConfigText(profile(`connection: {secretArn: "${managed}"}`)).profiles[0]?.connection?.secretArn,
    ).toBe(managed);
  });

  it('rejects a Lambda check whose functionArn is not a function ARN', () => {
    for (const arn of [
      'check-invariants',
      'arn:aws:lambda:us-east-1:123456789012:check-invariants',
      'arn:aws:lambda:us-east-1:123:function:check-invariants',
      'arn:aws:states:us-east-1:123456789012:function:check-invariants',
    ]) {
      const err = errorOf(
        profile(`match: {resourceType: DynamoDB}, checks: [{id: x, lambda: {functionArn: "${arn}"}}]`),
      );
      expect(err.path, arn).toBe('profiles[0].checks[0].lambda.functionArn');
      expect(err.message).toContain('expected a Lambda function ARN');
    }
    const fn = 'arn:aws:lambda:us-east-1:123456789012:function:check-invariants:live';
    expect(
      parseConfigText(
        profile(`match: {resourceType: DynamoDB}, checks: [{id: x, lambda: {functionArn: "${fn}"}}]`),
      ).profiles[0]?.checks[0]?.kind,
    ).toBe('lambda');
  });

  it('rejects min greater than max, which no value can pass', () => {
    const err = errorOf(profile('checks: [{id: x, sql: "select 1 as n", expect: {n: {min: 10, max: 5}}}]'));
    expect(err.path).toBe('profiles[0].checks[0].expect.n.min');
    expect(err.message).toContain('min is greater than max');
    expect(
      errorOf(profile('checks: [{id: x, sql: "select 1", rows: {min: "3", max: "2"}}]')).message,
    ).toContain('min is greater than max');
  });

  it('rejects iamAuth without the database user the token is for', () => {
    const err = errorOf(profile('connection: {iamAuth: true}'));
    expect(err.path).toBe('profiles[0].connection.user');
    expect(err.message).toContain('iamAuth: true needs user');
    expect(
      parseConfigText(profile('connection: {iamAuth: true, user: v}')).profiles[0]?.connection?.user,
    ).toBe('v');
  });

  it('rejects an empty files map and an empty freeSpace, which pass while checking nothing', () => {
    const files = errorOf(profile('match: {resourceType: EBS}, checks: [{id: x, files: {}}]'));
    expect(files.path).toBe('profiles[0].checks[0].files');
    expect(files.message).toContain('files is empty');
    const free = errorOf(profile('match: {resourceType: EBS}, checks: [{id: x, freeSpace: {}}]'));
    expect(free.path).toBe('profiles[0].checks[0].freeSpace');
    expect(free.message).toContain('give minFreePercent, minFreeInodesPercent or both');
  });

  it('rejects an http check URL that is not http or https', () => {
    for (const url of ['file:///etc/shadow', 'gopher://127.0.0.1:6379/_FLUSHALL', 'javascript:alert(1)']) {
      const err = errorOf(profile(`match: {resourceType: EC2}, checks: [{id: x, http: {url: "${url}"}}]`));
      expect(err.path, url).toBe('profiles[0].checks[0].http.url');
      expect(err.message).toContain('expected an http:// or https:// URL');
    }
    const ok = parseConfigText(
      profile('match: {resourceType: EC2}, checks: [{id: x, http: {url: "http://localhost:8080/health"}}]'),
    );
    expect(ok.profiles[0]?.checks[0]?.kind).toBe('http');
  });

  it('rejects a regular expression RE2 cannot run in linear time, naming the construct', () => {
    const err = errorOf(
      profile('checks: [{id: x, sql: "select 1 as n", expect: {n: {matches: "(a)\\\\1"}}}]'),
    );
    expect(err.path).toBe('profiles[0].checks[0].expect.n.matches');
    expect(err.message).toContain('invalid escape sequence');
    const look = errorOf(
      profile('match: {resourceType: EC2}, checks: [{id: x, command: "true", outputMatches: "(?=ok)"}]'),
    );
    expect(look.path).toBe('profiles[0].checks[0].outputMatches');
    expect(look.message).toContain('no backreferences or lookaround');
  });

  it('rejects a glob with an unclosed brace instead of matching nothing', () => {
    const err = errorOf(profile('match: {sourceResourceArn: "arn:aws:rds:*:*:db:{orders,billing"}'));
    expect(err.path).toBe('profiles[0].match.sourceResourceArn');
    expect(err.message).toContain('unclosed {');
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

  it('supports ?, classes and braces, and matches the whole value only', () => {
    const c = parseConfigText(
      'version: 1\nprofiles: [{name: t, match: {sourceResourceArn: "arn:aws:rds:*:*:db:{orders,billing}-[0-9]?"}}]\n',
    );
    const arn = (id: string) => ({
      resourceType: 'RDS',
      sourceResourceArn: `arn:aws:rds:eu-west-1:1:db:${id}`,
    });
    expect(matchProfile(c, arn('orders-1a'))?.name).toBe('t');
    expect(matchProfile(c, arn('billing-9z'))?.name).toBe('t');
    expect(matchProfile(c, arn('orders-xa'))).toBeUndefined();
    expect(matchProfile(c, arn('orders-1a-prod'))).toBeUndefined();
    expect(matchProfile(c, arn('orders-1a\n'))).toBeUndefined();
  });

  it('matches a glob with many stars against a long ARN without backtracking', () => {
    // picomatch compiles this to a backtracking RegExp that needs exponential time on a miss.
    const star = `arn:aws:s3:::${'*a'.repeat(24)}*b`;
    const c = parseConfigText(`version: 1\nprofiles: [{name: t, match: {sourceResourceArn: "${star}"}}]\n`);
    const long = `arn:aws:s3:::${'a'.repeat(2000)}`;
    expect(matchProfile(c, { resourceType: 'S3', sourceResourceArn: long })).toBeUndefined();
    expect(matchProfile(c, { resourceType: 'S3', sourceResourceArn: `${long}b` })?.name).toBe('t');
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
