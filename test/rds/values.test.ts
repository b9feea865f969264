import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../shared/config/index';
import {
  compareNumeric,
  evaluateExpectation,
  parseDbTimestamp,
  quoteTable,
  redactDriverMessage,
  toBigInt,
} from '../../shared/sql/index';
import { majorVersion, sqlEngineOf } from '../../shared/sql-database/state';

describe('compareNumeric', () => {
  it('compares integers beyond 2^53 exactly when given as strings', () => {
    expect(compareNumeric('9007199254740993', '9007199254740992')).toBe(1);
    expect(compareNumeric('-18446744073709551615', '-18446744073709551614')).toBe(-1);
  });

  it('compares decimals of different scale exactly when they differ in the last digit', () => {
    expect(compareNumeric('1.50', 1.5)).toBe(0);
    expect(compareNumeric('0.1000000000000000000001', '0.1')).toBe(1);
    expect(compareNumeric('1e3', '1000.000')).toBe(0);
  });

  it('returns undefined when a value is not a number', () => {
    expect(compareNumeric('abc', 1)).toBeUndefined();
    expect(compareNumeric(null, 1)).toBeUndefined();
    expect(compareNumeric(Number.NaN, 1)).toBeUndefined();
  });

  it('reads counts as BigInt and refuses fractions', () => {
    expect(toBigInt('123456789012345678901')).toBe(123456789012345678901n);
    expect(toBigInt('1.5')).toBeUndefined();
  });
});

describe('evaluateExpectation', () => {
  it('hides text values in a failure reason', () => {
    const why = evaluateExpectation('column email', 'alice@example.com', { matches: '^bob' });
    expect(why).toBe('column email (a text value (17 characters)) does not match /^bob/');
    expect(why).not.toContain('alice');
  });

  it('runs matches in linear time: a backtracking pattern on a long value answers instead of hanging', () => {
    // With a backtracking engine /(a+)+$/ on 40,000 a's and a '!' does not finish this century.
    const value = `${'a'.repeat(40_000)}!`;
    expect(evaluateExpectation('column v', value, { matches: '(a+)+$' })).toMatch(/does not match/);
    expect(evaluateExpectation('column v', value, { matches: '^(a+)+!$' })).toBeUndefined();
  });

  it('matches MySQL booleans (0/1) with equals true/false', () => {
    expect(evaluateExpectation('c', 1, { equals: true })).toBeUndefined();
    expect(evaluateExpectation('c', '0', { equals: true })).toBe('c is 0, expected true');
  });

  it('fails min on NULL and on text that is not a number', () => {
    expect(evaluateExpectation('n', null, { min: 1 })).toBe('n is NULL, expected min 1');
    expect(evaluateExpectation('n', 'many', { min: 1 })).toContain('not a number');
  });
});

describe('parseDbTimestamp', () => {
  it('reads PostgreSQL timestamptz text with a short offset', () => {
    expect(parseDbTimestamp('2026-11-24 23:30:00.5+01')?.toISOString()).toBe('2026-11-24T22:30:00.500Z');
    expect(parseDbTimestamp('2026-11-24 17:00:00-05:30')?.toISOString()).toBe('2026-11-24T22:30:00.000Z');
  });

  it('reads naive timestamps in the given zone across a DST change', () => {
    expect(parseDbTimestamp('2026-07-01 12:00:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-07-01T10:00:00.000Z',
    );
    expect(parseDbTimestamp('2026-12-01 12:00:00', 'Europe/Berlin')?.toISOString()).toBe(
      '2026-12-01T11:00:00.000Z',
    );
    expect(parseDbTimestamp('2026-11-24 12:00:00')?.toISOString()).toBe('2026-11-24T12:00:00.000Z');
  });

  it('reads epoch seconds and milliseconds, and NULL as undefined', () => {
    expect(parseDbTimestamp(1_764_021_600)?.toISOString()).toBe('2025-11-24T22:00:00.000Z');
    expect(parseDbTimestamp('1764021600000')?.toISOString()).toBe('2025-11-24T22:00:00.000Z');
    expect(parseDbTimestamp(null)).toBeUndefined();
  });

  it('throws without echoing the value when it is not a timestamp', () => {
    expect(() => parseDbTimestamp('secret-text')).toThrow(
      'expected a timestamp, got text that is not one (11 characters)',
    );
  });
});

describe('engine helpers', () => {
  it('derives the major version the way RDS upgrades', () => {
    expect(majorVersion('postgres', '15.4')).toBe('15');
    expect(majorVersion('postgres', '9.6.22')).toBe('9.6');
    expect(majorVersion('aurora-mysql', '8.0.mysql_aurora.3.05.2')).toBe('8.0');
    expect(majorVersion('mariadb', '10.11.6')).toBe('10.11');
  });

  it('maps RDS engines to drivers and leaves Oracle and SQL Server without one', () => {
    expect(sqlEngineOf('aurora-postgresql')).toBe('postgres');
    expect(sqlEngineOf('aurora-mysql')).toBe('mysql');
    expect(sqlEngineOf('mariadb')).toBe('mariadb');
    expect(sqlEngineOf('oracle-ee')).toBeUndefined();
    expect(sqlEngineOf('sqlserver-se')).toBeUndefined();
  });

  it('quotes table names per engine and folds plain PostgreSQL names', () => {
    expect(quoteTable('postgres', 'Public.Orders')).toBe('"public"."orders"');
    expect(quoteTable('postgres', '"weird""name"')).toBe('"weird""name"');
    expect(quoteTable('postgres', 'audit."Log"')).toBe('"audit"."Log"');
    expect(quoteTable('mysql', '`odd``one`')).toBe('`odd``one`');
    expect(quoteTable('mysql', 'shop.Orders')).toBe('`shop`.`Orders`');
  });
});

describe('SQL check config', () => {
  const load = (checks: unknown[]) => () =>
    parseConfig({ version: 1, profiles: [{ name: 'p', match: { resourceType: 'RDS' }, checks }] });

  it('rejects a sql check with nothing to compare, naming the fix', () => {
    expect(load([{ id: 'q', sql: 'select 1' }])).toThrow('add expect (per column of the first row) or rows');
    expect(load([{ id: 'q', sql: 'select 1', expect: {} }])).toThrow('add expect');
    expect(load([{ id: 'q', sql: 'select 1', rows: { min: 0 } }])).not.toThrow();
  });

  it('rejects integers a YAML number cannot hold exactly, asking to quote them', () => {
    const yaml = `version: 1
profiles:
  - name: p
    match: { resourceType: RDS }
    checks:
      - { id: big, sql: select v from t, expect: { v: { equals: 9007199254740993 } } }
`;
    expect(() => parseConfigText(yaml, 'v.yaml')).toThrow('quote it');
    expect(() =>
      parseConfigText(yaml.replace('9007199254740993', '"9007199254740993"'), 'v.yaml'),
    ).not.toThrow();
    expect(load([{ id: 'm', sql: 'select 1 as n', expect: { n: { max: 2 ** 60 } } }])).toThrow('quote it');
  });

  it('rejects a table name that is not SQL, and accepts quoted and qualified ones', () => {
    expect(load([{ id: 't', tables: ['a.b.c'] }])).toThrow('not a table name');
    expect(load([{ id: 't', tables: ['"unterminated'] }])).toThrow('not a table name');
    expect(load([{ id: 't', tables: ['audit."Log"', '`Orders`', 'public.orders'] }])).not.toThrow();
  });
});

describe('redactDriverMessage', () => {
  it('removes quoted values from data-exception texts of both drivers', () => {
    expect(redactDriverMessage('invalid input syntax for type integer: "alice"', '22P02')).toBe(
      'invalid input syntax for type integer: "…"',
    );
    expect(redactDriverMessage("Truncated incorrect DOUBLE value: 'alice@example.com'", '22007')).toBe(
      'Truncated incorrect DOUBLE value: "…"',
    );
    expect(redactDriverMessage("Duplicate entry 'o\\'brien' for key 'PRIMARY'", '23000')).not.toContain(
      'brien',
    );
  });

  it('keeps identifiers in other errors, which name no row data', () => {
    expect(redactDriverMessage('relation "customers" does not exist', '42P01')).toBe(
      'relation "customers" does not exist',
    );
    expect(redactDriverMessage('x'.repeat(600), undefined)).toHaveLength(500);
  });
});
