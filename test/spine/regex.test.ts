import { describe, expect, it } from 'vitest';
import { judgeConsole } from '../../functions/ec2/validator';
import { compileGlob, compileRegex, RegexSyntaxError, regexProblem } from '../../shared/regex';

// `(a+)+$` against "aaaa…!" is the classic catastrophic pattern: a backtracking engine needs 2^n steps
// on a miss, so at n = 64 it never answers and no check timeout can interrupt it (the loop is blocked).
const CATASTROPHIC = '(a+)+$';
const HOSTILE = `${'a'.repeat(64)}!`;

describe('compileRegex', () => {
  it('answers a catastrophic pattern on hostile restored data (RE2, linear time)', () => {
    expect(compileRegex(CATASTROPHIC).test(HOSTILE)).toBe(false);
    expect(compileRegex(CATASTROPHIC).test(`${HOSTILE}aa`)).toBe(true);
    expect(compileRegex('(x+x+)+y').test('x'.repeat(5000))).toBe(false);
  });

  it('keeps the JavaScript syntax users write: classes, named groups, \\u escapes, flags', () => {
    expect(compileRegex('^\\d{3}-\\w+$').test('123-abc')).toBe(true);
    expect(compileRegex('(?<year>\\d{4})-\\d{2}').test('2026-12')).toBe(true);
    expect(compileRegex('caf\\u00e9').test('café')).toBe(true);
    expect(compileRegex('^active$', { multiline: true }).test('inactive\nactive\n')).toBe(true);
    expect(compileRegex('^active$').test('inactive\nactive\n')).toBe(false);
    expect(compileRegex('ERROR', { ignoreCase: true }).test('an error')).toBe(true);
    expect(compileRegex('b+').search('aabbb')).toBe(2);
    expect(compileRegex('z').search('aabbb')).toBe(-1);
  });

  it('refuses what cannot run in linear time, saying why', () => {
    expect(() => compileRegex('(a)\\1')).toThrow(RegexSyntaxError);
    expect(() => compileRegex('(a)\\1')).toThrow(/invalid escape sequence.*no backreferences or lookaround/);
    expect(regexProblem('foo(?=bar)')).toContain('(?=');
    expect(regexProblem('(unclosed')).toContain('missing closing )');
    expect(regexProblem('ok|fine')).toBeUndefined();
  });
});

describe('compileGlob', () => {
  it('matches whole values: * spans / and :, ? one character, classes and braces', () => {
    const g = compileGlob('arn:aws:dynamodb:*:table/{orders,billing}-[0-9]?');
    expect(g.test('arn:aws:dynamodb:us-east-1:123456789012:table/orders-1a')).toBe(true);
    expect(g.test('arn:aws:dynamodb:us-east-1:123456789012:table/orders-1a/stream/x')).toBe(false);
    expect(g.test('arn:aws:dynamodb:us-east-1:123456789012:table/sessions-1a')).toBe(false);
    expect(compileGlob('[!p]*').test('prod')).toBe(false);
    expect(compileGlob('a.b+c').test('a.b+c')).toBe(true);
    expect(compileGlob('a.b+c').test('aXbbc')).toBe(false);
    expect(compileGlob('nightly_\\*').test('nightly_x')).toBe(false);
  });

  it('answers a many-star glob on a long value (no backtracking)', () => {
    expect(compileGlob(`${'*a'.repeat(30)}*b`).test('a'.repeat(10_000))).toBe(false);
  });
});

describe('EC2 console check on RE2', () => {
  it('judges a catastrophic forbid pattern against hostile console output', () => {
    const out = judgeConsole(`boot ok\n${HOSTILE}\nlogin:`, {
      forbid: [CATASTROPHIC],
      require: ['^login:$'],
    });
    expect(out.status).toBe('pass');
    const hit = judgeConsole(`boot\n${'a'.repeat(64)}\nlogin:`, { forbid: [CATASTROPHIC] });
    expect(hit.status).toBe('fail');
    expect(hit.detail).toContain(`console output contains ${CATASTROPHIC}: ${'a'.repeat(64)}`);
  });

  it('still finds the built-in kernel panic markers and shows their line', () => {
    const out = judgeConsole('[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root\nmore', {});
    expect(out.status).toBe('fail');
    expect(out.detail).toContain('Kernel panic - not syncing: VFS: Unable to mount root');
  });
});
