import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { fixturePath } from '../support/fixtures';

const run = runCli;

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
    expect(r.err).toContain(`${bad} at profiles[0].checks[0]`);
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

  it('has a committed example config that validates', async () => {
    const r = await run(['validate-config', 'validation.config.yaml']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync('validation.config.yaml', 'utf8')).toContain(
      '$schema=./validation.config.schema.json',
    );
  });
});
