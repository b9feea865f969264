import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateMountTargetCommand,
  DeleteMountTargetCommand,
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
} from '@aws-sdk/client-efs';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEfsValidator } from '../../functions/efs/validator';
import { type ContentTarget, contentScript } from '../../shared/files/content';
import { bundlePathCheck } from '../../shared/files/path-check/bundle';
import { runPathCheck } from '../../shared/files/path-check/index';
import { resultLine } from '../../shared/ssm/run-command';
import { runValidator } from '../../shared/validator';
import { testContext } from '../support/validator-context';

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

let work: string;
let data: string;
let shim: string;
let program: string;

const CHECKS = [
  { id: 'app-files', paths: ['/app/config.yml', '/app/data'] },
  { id: 'canary', files: { '/app/canary.txt': sha('canary v1\n') } },
  { id: 'enough-data', directory: { path: '/app/data', minFiles: 3, minBytes: 10 } },
  { id: 'space', freeSpace: { minFreePercent: 0 } },
];

/** The parsed form of the checks (as the config loader yields them: with `kind`). */
const withKind = (checks: readonly object[]) =>
  checks.map((c) => ({ ...c, kind: Object.keys(c).find((k) => k !== 'id') })) as never;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rv-content-'));
  // The "file system": a real directory tree the helper script mounts (bind mount standing in for NFS).
  data = join(work, 'fs');
  mkdirSync(join(data, 'app', 'data'), { recursive: true });
  writeFileSync(join(data, 'app', 'config.yml'), 'a: 1\n');
  writeFileSync(join(data, 'app', 'canary.txt'), 'canary v1\n');
  for (let i = 0; i < 4; i++) writeFileSync(join(data, 'app', 'data', `f${i}.bin`), Buffer.alloc(100 + i, i));
  shim = join(work, 'bin');
  mkdirSync(shim);
  // `mount` shim: records the arguments, then bind-mounts the local tree read-only on the last argument.
  writeFileSync(
    join(shim, 'mount'),
    `#!/bin/sh\nfor last; do :; done\necho "$@" >> "${work}/mount.log"\nexec /usr/bin/mount --bind -o ro "${data}" "$last"\n`,
  );
  chmodSync(join(shim, 'mount'), 0o755);
  program = await bundlePathCheck();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a helper script as SSM would (bash), with the mount shim first on PATH. */
function runScript(lines: readonly string[]): string {
  return execFileSync('bash', ['-c', lines.join('\n')], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
  });
}

describe('runPathCheck', () => {
  it('passes the file-system checks over a mounted directory that holds the content', async () => {
    const r = await runPathCheck({ root: data, checks: withKind(CHECKS) });
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['app-files', 'pass'],
      ['canary', 'pass'],
      ['enough-data', 'pass'],
      ['space', 'pass'],
    ]);
    expect(r.ok).toBe(true);
  });

  it('fails a missing path and a changed file, and never reads outside the root', async () => {
    const r = await runPathCheck({
      root: data,
      checks: [
        { id: 'missing', kind: 'paths', paths: ['/app/nope', '/../../etc/passwd'] },
        { id: 'changed', kind: 'files', files: { '/app/canary.txt': sha('canary v2\n') } },
      ] as never,
    });
    expect(r.checks.map((c) => c.status)).toEqual(['fail', 'fail']);
    expect(r.ok).toBe(false);
  });

  it("resolves symlinks inside the mounted root, never onto the helper's own files", async () => {
    const root = mkdtempSync(join(work, 'links-'));
    mkdirSync(join(root, 'opt'));
    mkdirSync(join(root, 'srv', 'app'), { recursive: true });
    writeFileSync(join(root, 'srv', 'app', 'real.txt'), 'restored\n');
    symlinkSync('/usr/share/common-licenses', join(root, 'opt', 'licenses'));
    symlinkSync('/srv/app', join(root, 'opt', 'app'));
    const host = readFileSync('/usr/share/common-licenses/Apache-2.0', 'utf8');
    const r = await runPathCheck({
      root,
      checks: [
        { id: 'leak', kind: 'files', files: { '/opt/licenses/Apache-2.0': sha(host) } },
        { id: 'inside', kind: 'files', files: { '/opt/app/real.txt': sha('restored\n') } },
      ] as never,
    });
    expect(r.checks.map((c) => [c.id, c.status, c.detail])).toEqual([
      ['leak', 'fail', '/opt/licenses/Apache-2.0 missing'],
      ['inside', 'pass', '1 file(s) match their SHA-256'],
    ]);
  });
});

describe('contentScript', () => {
  it('mounts EFS read-only over NFS 4.1, runs the bundled path check and unmounts', () => {
    // Only this script's mount counts: another run killed mid-way may have left one of its own.
    const ourMounts = () =>
      execFileSync('sh', ['-c', 'grep restore-validation- /proc/mounts || true'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    const before = ourMounts();
    const target: ContentTarget = { kind: 'efs', fileSystemId: 'fs-0abc' };
    const out = runScript(contentScript(target, '10.0.1.25', program, withKind(CHECKS)));
    // the result comes packed on one gz: line, as SSM will return it
    expect(out).toMatch(/^gz:[A-Za-z0-9+/=]+$/m);
    const result = JSON.parse(resultLine(out) ?? '{}');
    expect(result.ok).toBe(true);
    expect(result.checks.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([
      ['app-files', 'pass'],
      ['canary', 'pass'],
      ['enough-data', 'pass'],
      ['space', 'pass'],
    ]);
    const log = readFileSync(join(work, 'mount.log'), 'utf8');
    expect(log).toContain(
      '-t nfs4 -o ro,nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport 10.0.1.25:/ /mnt/restore-validation-',
    );
    expect(ourMounts()).toEqual(before);
  });

  it('builds the Lustre and OpenZFS mounts from the DNS and mount names', () => {
    const lustre = contentScript(
      { kind: 'fsx-lustre', fileSystemId: 'fs-1', mountName: 'abcdefgh' },
      'fs-1.fsx.us-east-1.amazonaws.com',
      'x',
      [],
    );
    expect(lustre.join('\n')).toContain(
      'mount -t lustre -o ro,relatime,flock fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh "$M"',
    );
    const zfs = contentScript(
      { kind: 'fsx-openzfs', fileSystemId: 'fs-2', mountName: '/fsx' },
      'fs-2.fsx.us-east-1.amazonaws.com',
      'x',
      [],
    );
    expect(zfs.join('\n')).toContain(
      'mount -t nfs -o ro,nfsvers=4.1 fs-2.fsx.us-east-1.amazonaws.com:/fsx "$M"',
    );
    expect(() => contentScript({ kind: 'fsx-other', fileSystemId: 'fs-3' }, 'x', 'x', [])).toThrow(
      'no Linux mount',
    );
  });

  it('refuses an id, address or mount name that is not plainly one before it reaches the shell line', () => {
    const zfs = { kind: 'fsx-openzfs', fileSystemId: 'fs-0abc', mountName: '/fsx/vol1' } as const;
    const dns = 'fs-0abc.fsx.us-east-1.amazonaws.com';
    expect(contentScript(zfs, dns, 'x', []).join('\n')).toContain(`${dns}:/fsx/vol1 "$M"`);
    expect(() => contentScript({ ...zfs, fileSystemId: 'fs-1$(reboot)' }, dns, 'x', [])).toThrow(
      /refusing to put the file system id "fs-1\$\(reboot\)" into the helper's shell line/,
    );
    expect(() => contentScript(zfs, `${dns};reboot`, 'x', [])).toThrow(/refusing to put the address/);
    expect(() => contentScript({ ...zfs, mountName: "/fsx/v'1" }, dns, 'x', [])).toThrow(
      /refusing to put the mount name/,
    );
  });

  it('unmounts when SSM cancels or times the command out (SIGTERM) while the program runs', async () => {
    const { spawn } = await import('node:child_process');
    const lines = contentScript(
      { kind: 'efs', fileSystemId: 'fs-0abc' },
      '10.0.0.1',
      'setTimeout(() => {}, 47_311);',
      [],
    );
    const child = spawn('bash', ['-c', lines.join('\n')], {
      env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ours = () =>
      readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .filter((l) => l.includes('/mnt/restore-validation-'));
    const running = () =>
      execFileSync('sh', ['-c', 'pgrep -f "path-check.cj[s] --root /mnt/restore-validation-" || true'])
        .toString()
        .trim() !== '';
    const until = Date.now() + 20_000;
    while (!(running() && ours().length > 0) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(ours()).toHaveLength(1);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
    expect(ours()).toEqual([]);
    // The program was stopped with the script, not left running.
    expect(running()).toBe(false);
  });

  it('reports a failed mount as a helperError line', () => {
    const failing = join(work, 'failbin');
    mkdirSync(failing, { recursive: true });
    writeFileSync(join(failing, 'mount'), '#!/bin/sh\necho "mount.nfs4: Connection refused" >&2\nexit 32\n');
    chmodSync(join(failing, 'mount'), 0o755);
    const out = execFileSync(
      'bash',
      ['-c', contentScript({ kind: 'efs', fileSystemId: 'fs-0abc' }, '10.0.0.1', program, []).join('\n')],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${failing}:${process.env.PATH}` },
      },
    );
    const line = JSON.parse(resultLine(out) ?? '{}');
    expect(line.helperError).toBe('read-only mount of fs-0abc failed: mount.nfs4: Connection refused ');
  });
});

describe('efsValidator content checks', () => {
  const efs = mockClient(EFSClient);
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  const FS = 'fs-0fedcba9876543210';
  let sent: string[] = [];
  let mountTargetState = 'creating';

  beforeEach(() => {
    efs.reset();
    ec2.reset();
    ssm.reset();
    sent = [];
    mountTargetState = 'creating';
    efs.on(DescribeFileSystemsCommand).resolves({
      FileSystems: [
        {
          FileSystemId: FS,
          LifeCycleState: 'available',
          Encrypted: true,
          Name: 'awsbackup-restore-test-fs',
          Tags: [{ Key: 'awsbackup-restore-test', Value: 'x' }],
          SizeInBytes: { Value: 1 },
        } as never,
      ],
    });
    efs.on(DescribeMountTargetsCommand, { FileSystemId: FS }).resolves({ MountTargets: [] });
    efs.on(CreateMountTargetCommand).resolves({
      MountTargetId: 'fsmt-1',
      FileSystemId: FS,
      SubnetId: 'subnet-1',
      LifeCycleState: 'creating',
    });
    efs.on(DescribeMountTargetsCommand, { MountTargetId: 'fsmt-1' }).callsFake(() => {
      const state = mountTargetState;
      mountTargetState = 'available';
      return {
        MountTargets: [
          {
            MountTargetId: 'fsmt-1',
            FileSystemId: FS,
            SubnetId: 'subnet-1',
            LifeCycleState: state,
            IpAddress: '10.0.1.25',
          },
        ],
      };
    });
    efs.on(DeleteMountTargetCommand).resolves({});
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            { InstanceId: 'i-helper', SubnetId: 'subnet-1', Placement: { AvailabilityZone: 'us-east-1a' } },
          ],
        },
      ],
    });
    // SSM runs the generated script for real (bash, bind mount standing in for the NFS server).
    ssm.on(SendCommandCommand).callsFake((input: { Parameters?: Record<string, string[]> }) => {
      sent = input.Parameters?.commands ?? [];
      return { Command: { CommandId: 'cmd-1' } };
    });
    ssm.on(GetCommandInvocationCommand).callsFake(() => ({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: runScript(sent),
      StandardErrorContent: '',
    }));
  });

  function ctx(checks: unknown[], options: Record<string, unknown> = { helperInstanceId: 'i-helper' }) {
    return testContext({
      resourceType: 'EFS',
      createdResourceArn: `arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/${FS}`,
      checks,
      options,
      clients: { efs: new EFSClient({}), ec2: new EC2Client({}), ssm: new SSMClient({}) },
      // Real Lambdas have up to 15 minutes; the mount-target wait keeps a minute back.
      deadlineMs: 300_000,
    });
  }

  it('mounts through a new mount target in the helper subnet, runs the checks and deletes the mount target', async () => {
    const run = await runValidator(
      createEfsValidator({ programSource: () => program, pollMs: 1 }),
      ctx(CHECKS),
    );
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['file-system-state', 'pass'],
      ['encryption', 'pass'],
      ['app-files', 'pass'],
      ['canary', 'pass'],
      ['enough-data', 'pass'],
      ['space', 'pass'],
    ]);
    expect(efs.commandCalls(CreateMountTargetCommand)[0]?.args[0].input).toMatchObject({
      FileSystemId: FS,
      SubnetId: 'subnet-1',
    });
    expect(efs.commandCalls(DeleteMountTargetCommand)[0]?.args[0].input).toEqual({ MountTargetId: 'fsmt-1' });
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('deletes a mount target an earlier killed run left on the restore-test file system, after reusing it', async () => {
    efs.on(DescribeMountTargetsCommand, { FileSystemId: FS }).resolves({
      MountTargets: [
        {
          MountTargetId: 'fsmt-left',
          FileSystemId: FS,
          SubnetId: 'subnet-1',
          AvailabilityZoneName: 'us-east-1a',
          LifeCycleState: 'available',
          IpAddress: '10.0.1.99',
        },
      ],
    });
    const run = await runValidator(
      createEfsValidator({ programSource: () => program, pollMs: 1 }),
      ctx(CHECKS),
    );
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
    expect(efs.commandCalls(CreateMountTargetCommand)).toHaveLength(0);
    expect(efs.commandCalls(DeleteMountTargetCommand).map((c) => c.args[0].input)).toEqual([
      { MountTargetId: 'fsmt-left' },
    ]);
  });

  it('fails the content check whose file changed', async () => {
    const run = await runValidator(
      createEfsValidator({ programSource: () => program, pollMs: 1 }),
      ctx([{ id: 'canary', files: { '/app/canary.txt': sha('other\n') } }]),
    );
    expect(run.results.find((r) => r.id === 'canary')?.status).toBe('fail');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('reports the content checks as not run, with the reason, when no helper is configured', async () => {
    const run = await runValidator(createEfsValidator({ programSource: () => program }), ctx(CHECKS, {}));
    expect(run.results.find((r) => r.id === 'canary')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('no helper instance configured'),
    });
    expect(efs.commandCalls(CreateMountTargetCommand)).toHaveLength(0);
  });

  it('refuses to create a mount target on a file system that is not a restore-test one', async () => {
    efs.on(DescribeFileSystemsCommand).resolves({
      FileSystems: [
        { FileSystemId: FS, LifeCycleState: 'available', Encrypted: true, Name: 'prod', Tags: [] } as never,
      ],
    });
    const run = await runValidator(
      createEfsValidator({ programSource: () => program, pollMs: 1 }),
      ctx(CHECKS),
    );
    expect(run.results.find((r) => r.id === 'app-files')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('refusing to create a mount target'),
    });
    expect(efs.commandCalls(CreateMountTargetCommand)).toHaveLength(0);
  });

  it('fails the verdict when the mount target it created cannot be deleted', async () => {
    efs
      .on(DeleteMountTargetCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const run = await runValidator(
      createEfsValidator({ programSource: () => program, pollMs: 1 }),
      ctx(CHECKS.slice(0, 1)),
    );
    expect(run.results.find((r) => r.id === 'cleanup')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('mount target fsmt-1 was left behind'),
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });
});
