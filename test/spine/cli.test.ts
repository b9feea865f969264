import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { fixturePath } from '../support/fixtures';

const run = runCli;

/** Puts variables back as they were (assigning undefined to process.env stores the text "undefined"). */
function restoreEnv(saved: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'rv-cli-'));
const good = join(dir, 'good.yaml');
const bad = join(dir, 'bad.yaml');
writeFileSync(
  good,
  'version: 1\nprofiles: [{name: p, match: {resourceType: S3}, checks: [{id: n, minObjects: 1}]}]\n',
);
writeFileSync(bad, 'version: 1\nprofiles: [{name: p, checks: [{id: n, minObjets: 1}]}]\n');

describe('restore-validation CLI', () => {
  it('validate-config says valid with counts and exits 0', async () => {
    const r = await run(['validate-config', good]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid (1 profile, 1 check)');
  });

  it('validate-config exits 2 with file, path and suggestion on stderr', async () => {
    const r = await run(['validate-config', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:2:31 at profiles[0].checks[0]`);
    expect(r.err).toContain('did you mean "minObjects"?');
  });

  it('exits 2 on an unknown command, an unknown check type and no arguments', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const unknownType = await run(['check', 'mainframe', '--config', good]);
    expect(unknownType.code).toBe(2);
    expect(unknownType.err).toContain('unknown check type "mainframe"');
    expect((await run([])).code).toBe(2);
  });

  it('prints the config JSON Schema', async () => {
    const r = await run(['schema']);
    expect(JSON.parse(r.out).properties.profiles).toBeDefined();
  });

  it('replay exits 2 with the field for a malformed event', async () => {
    const r = await run(['replay', '--event', fixturePath('malformed-missing-job-id.json'), '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('detail.restoreJobId');
  });

  it('replay exits 2 when the event file is missing', async () => {
    const r = await run(['replay', '--event', join(dir, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('cannot read event file');
  });

  it('prints the package version with --version, as aws-cli does', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('answers check --help with the types and the options every type takes', async () => {
    const r = await run(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('rds, aurora, ebs, s3, dynamodb');
    expect(r.out).toContain('--config-profile <name>');
    expect(r.out).toContain('--profile <name>           AWS profile');
  });

  it('names a missing config profile after --config-profile and exits 2', async () => {
    const r = await run(['check', 's3', '--bucket', 'b', '--config', good, '--config-profile', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`no profile named "nope" in ${good}; profiles: p`);
  });

  it('takes --profile as the AWS profile on check: the environment keys no longer apply', async () => {
    const args = [
      'check',
      'dynamodb',
      '--table',
      'awsbackup-restore-test-t',
      '--endpoint-url',
      'http://127.0.0.1:9',
      '--config',
      good,
      '--json',
    ];
    // Prepare: the environment has keys (test/support/setup.ts), so without --profile the call is made.
    const withEnvKeys = await run(args);
    expect(JSON.parse(withEnvKeys.out).message).not.toContain('CredentialsProviderError');
    // Act: a profile that no config file defines, as aws-cli would use it.
    const r = await run([...args, '--profile', 'rv-no-such-profile']);
    // Assess
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).message).toContain('CredentialsProviderError');
    expect(process.env.AWS_PROFILE).toBeUndefined();
  });

  it('exits 3, not 1, when the tool itself fails: replay with no region anywhere', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const r = await run(['replay', '--restore-job-id', 'AB12', '--dry-run']);
      expect(r.code).toBe(3);
      expect(r.err).toContain('no AWS region: pass --region REGION or set AWS_REGION');
    } finally {
      restoreEnv(saved);
    }
  });

  it('exits 3, not 1, when check s3 has no region: the tool failed, the bucket was not judged', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = join(dir, 'no-such-aws-config');
    try {
      const r = await run([
        'check',
        's3',
        '--bucket',
        'awsbackup-restore-test-b',
        '--endpoint-url',
        'http://127.0.0.1:9',
        '--config',
        good,
        '--json',
      ]);
      expect(r.code).toBe(3);
      expect(r.err).toContain('no AWS region: pass --region REGION or set AWS_REGION');
      expect(r.out).toBe('');
    } finally {
      restoreEnv(saved);
    }
  });

  it('runs when started directly, as `npx tsx bin/cli.ts`, with its exit codes', () => {
    const tsx = (args: string[]) =>
      spawnSync(join('node_modules', '.bin', 'tsx'), ['bin/cli.ts', ...args], { encoding: 'utf8' });
    const version = tsx(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(version.status).toBe(0);
    // run-test imports this module back: it must load without waiting on itself (Node exits 13 then).
    const help = tsx(['run-test', '--help']);
    expect(help.stdout).toContain('Usage: restore-validation run-test [options]');
    expect(help.status).toBe(0);
    const unknown = tsx(['validate-config', bad]);
    expect(unknown.stderr).toContain('did you mean "minObjects"?');
    expect(unknown.status).toBe(2);
  });

  it('replay takes the region from the event and rejects a contradicting --region', async () => {
    const r = await run([
      'replay',
      '--event',
      fixturePath('completed-s3.json'),
      '--region',
      'eu-west-1',
      '--dry-run',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--region eu-west-1 contradicts the event's region us-east-1");
  });

  it('replay needs exactly one of --event and --restore-job-id', async () => {
    const r = await run(['replay', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('exactly one of --event FILE and --restore-job-id ID');
  });

  it('has a committed example config that validates', async () => {
    const r = await run(['validate-config', 'validation.config.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync('validation.config.yaml', 'utf8')).toContain(
      '$schema=./validation.config.schema.json',
    );
  });
});
