import { describe, expect, it } from 'vitest';
import { defineCheck, fail, pass, runChecks, skip } from '../../shared/checks';
import { decideVerdict, MAX_MESSAGE_LENGTH } from '../../shared/verdict/index';

describe('runChecks', () => {
  it('returns one result per check, in order, with durations', async () => {
    const results = await runChecks(
      [
        defineCheck({ id: 'a', run: () => pass('ok') }),
        defineCheck({ id: 'b', run: async () => fail('bad') }),
      ],
      {},
    );
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['a', 'pass'],
      ['b', 'fail'],
    ]);
    expect(results.every((r) => r.durationMs >= 0)).toBe(true);
  });

  it('turns a thrown exception into an error result with its reason', async () => {
    const [r] = await runChecks(
      [
        defineCheck({
          id: 'boom',
          run: () => {
            throw new Error('disk on fire');
          },
        }),
      ],
      {},
    );
    expect(r?.status).toBe('error');
    expect(r?.detail).toContain('disk on fire');
  });

  it('does not count a pass that a check blocking the event loop returns after its timeout', async () => {
    const busy = <T>(ms: number, outcome: T): T => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // synchronous work: no timer can fire meanwhile
      }
      return outcome;
    };
    const [late, failed] = await runChecks(
      [
        defineCheck({ id: 'busy', timeoutMs: 5, run: () => busy(40, pass('all rows fine')) }),
        defineCheck({ id: 'busy-fail', timeoutMs: 5, run: () => busy(40, fail('row 7 wrong')) }),
      ],
      {},
      { concurrency: 1 },
    );
    expect(late?.status).toBe('error');
    expect(late?.detail).toMatch(/^timed out after 5 ms: it blocked for \d+ ms and its pass came too late$/);
    // A failure found late is still a failure.
    expect(failed).toMatchObject({ status: 'fail', detail: 'row 7 wrong' });
  });

  it('ends a hung check as error: timed out and aborts its signal', async () => {
    let aborted = false;
    const [r] = await runChecks(
      [
        defineCheck({
          id: 'hang',
          timeoutMs: 50,
          run: (_f, { signal }) =>
            new Promise(() => {
              signal.addEventListener('abort', () => {
                aborted = true;
              });
            }),
        }),
      ],
      {},
    );
    expect(r?.status).toBe('error');
    expect(r?.detail).toMatch(/timed out/);
    expect(aborted).toBe(true);
  });

  it('cuts checks at the validation deadline', async () => {
    const [r] = await runChecks(
      [defineCheck({ id: 'slow', run: () => new Promise(() => {}) })],
      {},
      { deadline: Date.now() + 40, checkTimeoutMs: 60_000 },
    );
    expect(r?.status).toBe('error');
    expect(r?.detail).toMatch(/deadline/);
  });

  it('never runs more checks at once than the concurrency bound', async () => {
    let running = 0;
    let peak = 0;
    const checks = Array.from({ length: 10 }, (_, i) =>
      defineCheck({
        id: `c${i}`,
        run: async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 10));
          running--;
          return pass('ok');
        },
      }),
    );
    await runChecks(checks, {}, { concurrency: 3 });
    expect(peak).toBe(3);
  });

  it('reports a duplicate id as an error instead of running it twice', async () => {
    const results = await runChecks(
      [defineCheck({ id: 'x', run: () => pass('1') }), defineCheck({ id: 'x', run: () => pass('2') })],
      {},
    );
    expect(results[1]?.status).toBe('error');
    expect(results[1]?.detail).toMatch(/duplicate/);
  });

  it('treats a check that returns garbage as an error', async () => {
    const [r] = await runChecks([{ id: 'g', run: () => 42 as never }], {});
    expect(r?.status).toBe('error');
  });

  it('rejects an invalid check id when the check is defined', () => {
    expect(() => defineCheck({ id: 'has space', run: () => pass('') })).toThrow(/invalid/);
  });
});

describe('decideVerdict', () => {
  const r = (id: string, status: 'pass' | 'fail' | 'skip' | 'error', detail = '') => ({
    id,
    status,
    detail,
    durationMs: 1,
  });

  it('is SUCCESSFUL when at least one passed and none failed', () => {
    expect(decideVerdict([r('a', 'pass'), r('b', 'skip')]).verdict).toBe('SUCCESSFUL');
  });

  it('is FAILED when any check fails or errors, naming failed checks first', () => {
    const v = decideVerdict([
      r('good', 'pass'),
      r('rows', 'fail', 'expected n >= 1000, got 12'),
      r('tls', 'error', 'refused'),
    ]);
    expect(v.verdict).toBe('FAILED');
    expect(v.message.indexOf('rows failed')).toBeLessThan(v.message.indexOf('passed: good'));
    expect(v.message).toContain('tls error: refused');
  });

  it('is FAILED when nothing was checked, unless the profile allows it', () => {
    expect(decideVerdict([]).verdict).toBe('FAILED');
    expect(decideVerdict([r('a', 'skip')]).verdict).toBe('FAILED');
    expect(decideVerdict([r('a', 'skip')], { failWhenNothingChecked: false }).verdict).toBe('SUCCESSFUL');
  });

  it('fits the message in 1,000 characters', () => {
    const many = Array.from({ length: 200 }, (_, i) => r(`check-${i}`, 'fail', 'x'.repeat(50)));
    const v = decideVerdict(many);
    expect(v.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
    expect(v.message.startsWith('200 of 200 checks failed')).toBe(true);
  });
});

describe('skip', () => {
  it('produces a skip outcome', () => {
    expect(skip('n/a').status).toBe('skip');
  });
});
