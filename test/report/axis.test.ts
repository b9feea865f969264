import { describe, expect, it } from 'vitest';
import { niceCeil, passRateChart } from '../../bin/report/render';

describe('niceCeil', () => {
  it.each([1, 2, 3, 5, 7, 9, 11, 25, 61, 99, 101, 1234, 55555])(
    'gives %i an axis of four whole, round steps',
    (v) => {
      const max = niceCeil(v);
      expect(max).toBeGreaterThanOrEqual(v);
      expect(max % 4).toBe(0);
      expect(max).toBeLessThanOrEqual(Math.max(4, v * 2.5));
    },
  );
});

describe('passRateChart', () => {
  it('never repeats a count label on the left axis', () => {
    const svg = passRateChart([
      { period: '2026-11-25', total: 2, successful: 1, failed: 1, timedOut: 0, passRate: 0.5 },
    ]);
    const labels = [...svg.matchAll(/<text x="\d+" y="[\d.]+" text-anchor="end">(\d+)<\/text>/g)].map(
      (m) => m[1],
    );
    expect(labels).toEqual(['0', '1', '2', '3', '4']);
  });
});
