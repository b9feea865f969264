/**
 * Real engines for tests, each started per test file on a free loopback port and stopped after:
 * moto's server (S3, DynamoDB, EC2, SSM, RDS, Secrets Manager, Step Functions), PostgreSQL 15
 * (Debian's, via initdb/pg_ctl as user postgres) and MariaDB (mariadbd). `.ci/run` installs them.
 * A missing engine is a test failure with the install hint, never a silent skip.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 120_000,
  proc?: ChildProcess,
) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc && proc.exitCode !== null)
      throw new Error(`${what} exited with code ${proc.exitCode} before it was ready`);
    try {
      if (await probe()) return;
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

function which(cmd: string, hint: string): string {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/bin', '/usr/bin']);
  for (const d of dirs) if (existsSync(join(d, cmd))) return join(d, cmd);
  throw new Error(`${cmd} not found: ${hint} (bash .ci/run installs it)`);
}

export interface Moto {
  readonly endpoint: string;
  /** The server's process id when this process started it (benchmarks read its CPU time). */
  readonly pid?: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Moto for one test file. Under vitest, each worker slot has one moto server for the whole run
 * (started by test/support/global-setup.ts): a file gets its slot's server reset to a fresh state,
 * and `stop()` leaves it for the next file in that slot. Elsewhere (benchmarks) it starts its own.
 */
export async function startMoto(): Promise<Moto> {
  const shared = sharedMotoEndpoint();
  if (!shared) return spawnMoto();
  await resetMoto(shared);
  return { endpoint: shared, reset: () => resetMoto(shared), stop: async () => {} };
}

/** Moto's state and the options a test may have changed (Step Functions execution), as at start. */
async function resetMoto(endpoint: string): Promise<void> {
  const ok = (r: Response, what: string) => {
    if (!r.ok) throw new Error(`moto ${what} answered HTTP ${r.status}`);
  };
  ok(await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' }), 'reset');
  ok(
    await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ stepfunctions: { execute_state_machine: false } }),
    }),
    'config',
  );
}

function sharedMotoEndpoint(): string | undefined {
  let endpoints: readonly string[] | undefined;
  try {
    endpoints = inject('motoEndpoints');
  } catch {
    return undefined; // not inside a vitest worker
  }
  return endpoints?.[Number(process.env.VITEST_POOL_ID ?? '1') - 1];
}

/**
 * Starts moto's server through test/support/moto_server.py: it binds a port of its own choosing and
 * says which (no other process can take it in between), and applies DynamoDB requests one at a time,
 * as DynamoDB applies conditional writes atomically (moto's threaded server does not).
 */
export async function spawnMoto(): Promise<Moto> {
  which('moto_server', 'moto is expected on the image (pip package moto[server])');
  const proc = spawn('python3', [join(import.meta.dirname, 'moto_server.py'), '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /moto listening on (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.stderr?.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-2000);
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`moto exited with code ${code} before listening: ${err}`)));
  });
  proc.stdout?.resume();
  proc.stderr?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor('moto_server', async () => (await fetch(`${endpoint}/moto-api/`)).ok, 120_000, proc);
  return {
    endpoint,
    pid: proc.pid,
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Starts a server on a free port, choosing again when another process took the port between
 * choosing and binding it (the server then fails to start, it never answers for someone else).
 */
async function onFreePort<T>(what: string, start: (port: number) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`${what} did not start on any of 5 free ports: ${String(last)}`);
}

export interface Postgres {
  readonly host: string;
  readonly port: number;
  /** Superuser `postgres`, password `postgres` over TCP (scram), trust on the socket. */
  readonly user: string;
  readonly password: string;
  readonly url: (database?: string) => string;
  /** Runs SQL as the superuser through psql (for setting up fixtures). */
  psql(sql: string, database?: string): string;
  stop(): Promise<void>;
}

function pgBinDir(): string {
  for (const base of ['/usr/lib/postgresql']) {
    if (!existsSync(base)) continue;
    const versions = readdirSync(base).sort().reverse();
    for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  }
  return join(which('initdb', 'install postgresql (apt-get install -y postgresql)'), '..');
}

/** Starts a throwaway PostgreSQL cluster (as user postgres; initdb refuses root). */
export async function startPostgres(): Promise<Postgres> {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'rv-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPg = (args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'pipe' });
  execFileSync('sh', ['-c', `echo postgres > ${dir}/pw && chmod 644 ${dir}/pw`]);
  asPg([
    join(bin, 'initdb'),
    '-D',
    data,
    '-A',
    'scram-sha-256',
    '--pwfile',
    `${dir}/pw`,
    '-U',
    'postgres',
    '--no-sync',
  ]);
  const port = await onFreePort('PostgreSQL', async (p) => {
    asPg([
      join(bin, 'pg_ctl'),
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${p} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
    return p;
  });
  const psql = (sql: string, database = 'postgres') =>
    execFileSync(
      join(bin, 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-At',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
      ],
      {
        input: sql,
        env: { ...process.env, PGPASSWORD: 'postgres' },
        encoding: 'utf8',
      },
    );
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'postgres',
    url: (database = 'postgres') => `postgres://postgres:postgres@127.0.0.1:${port}/${database}`,
    psql,
    stop: async () => {
      try {
        asPg([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface MariaDb {
  readonly host: string;
  readonly port: number;
  /** `root` with password `root` over TCP. */
  readonly user: string;
  readonly password: string;
  /** Runs SQL as root through the mariadb client. */
  sql(sql: string, database?: string): string;
  stop(): Promise<void>;
}

/** Starts a throwaway MariaDB server. */
export async function startMariaDb(): Promise<MariaDb> {
  const installDb = which('mariadb-install-db', 'install mariadb-server (apt-get install -y mariadb-server)');
  const mariadbd = which('mariadbd', 'install mariadb-server');
  const client = which('mariadb', 'install mariadb-client');
  const dir = mkdtempSync(join(tmpdir(), 'rv-maria-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  execFileSync(
    installDb,
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
    ],
    {
      stdio: 'pipe',
    },
  );
  const { proc, port } = await onFreePort('mariadbd', async (p) => {
    const proc = spawn(
      mariadbd,
      [
        '--no-defaults',
        '--user=root',
        `--datadir=${data}`,
        `--port=${p}`,
        '--bind-address=127.0.0.1',
        `--socket=${sock}`,
        '--skip-log-bin',
        '--innodb-flush-log-at-trx-commit=0',
        '--skip-name-resolve',
      ],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(
        'mariadbd',
        () =>
          existsSync(sock) &&
          execFileSync(client, ['--no-defaults', `--socket=${sock}`, '-uroot', '-e', 'select 1'], {
            stdio: 'pipe',
          }).length > 0,
        120_000,
        proc,
      );
    } catch (err) {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      throw err;
    }
    return { proc, port: p };
  });
  const sql = (text: string, database?: string) =>
    execFileSync(
      client,
      ['--no-defaults', `--socket=${sock}`, '-uroot', '-N', '-B', ...(database ? [database] : [])],
      { input: text, encoding: 'utf8' },
    );
  sql(
    "ALTER USER 'root'@'localhost' IDENTIFIED BY 'root'; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'root'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;",
  );
  const sqlWithPw = (text: string, database?: string) =>
    execFileSync(
      client,
      ['--no-defaults', `--socket=${sock}`, '-uroot', '-proot', '-N', '-B', ...(database ? [database] : [])],
      { input: text, encoding: 'utf8' },
    );
  return {
    host: '127.0.0.1',
    port,
    user: 'root',
    password: 'root',
    sql: sqlWithPw,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
