import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlPool, rdsCaBundle } from '../../shared/sql/index';
import { type Postgres, startPostgres, waitFor } from '../support/engines';

let pg: Postgres;
let cert: string;
let dir: string;

beforeAll(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'rv-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'pipe' },
  );
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const data = pg.psql('SHOW data_directory').trim();
  execFileSync('install', ['-o', 'postgres', '-m', '600', join(dir, 'key.pem'), join(data, 'server.key')]);
  execFileSync('install', ['-o', 'postgres', '-m', '644', join(dir, 'cert.pem'), join(data, 'server.crt')]);
  pg.psql('ALTER SYSTEM SET ssl = on; SELECT pg_reload_conf();');
  // the postmaster applies the reload asynchronously: wait until a new session sees it
  await waitFor('ssl = on after reload', () => pg.psql('SHOW ssl').trim() === 'on');
});

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = (tls: boolean | { ca: string[] }) => ({
  engine: 'postgres' as const,
  host: '127.0.0.1',
  port: pg.port,
  database: 'postgres',
  user: 'postgres',
  password: pg.password,
  tls,
  credentialSource: 'local' as const,
});

describe('TLS to PostgreSQL', () => {
  it('ships the Amazon RDS CA bundle', () => {
    expect(rdsCaBundle().length).toBeGreaterThan(10);
    expect(rdsCaBundle()[0]).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a server whose certificate does not chain to the RDS bundle when tls is on', async () => {
    const pool = createSqlPool(endpoint(true));
    try {
      await expect(pool.probe()).rejects.toThrow(
        /TLS verification of 127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)/,
      );
    } finally {
      await pool.close();
    }
  });

  it('connects over verified TLS when the server certificate is trusted', async () => {
    const pool = createSqlPool(endpoint({ ca: [cert] }));
    try {
      await pool.probe();
      const r = await pool.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      expect(r.rows[0]?.ssl).toBe(true);
    } finally {
      await pool.close();
    }
  });
});
