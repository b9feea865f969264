import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config/index';
import { objectivesAtHandOff } from '../../shared/objectives';

// A validation that hands off to Step Functions judges its objectives at the hand-off: the final
// step counts the results with the rest (onMiss: fail) and records the objectives (both).
const job = {
  creationDate: new Date('2026-11-20T10:00:00Z'),
  completionDate: new Date('2026-11-20T10:40:00Z'), // a 40-minute restore
};
const config = (objectives: string) =>
  parseConfigText(
    `version: 1\nprofiles: [{name: vol, match: {resourceType: EBS}, objectives: ${objectives}, checks: [{id: f, paths: [/etc]}]}]\n`,
  );

describe('objectivesAtHandOff', () => {
  it('hands a failed rto-objective result to the final step when onMiss is fail and the restore was too slow', () => {
    const c = config('{ rtoMinutes: 30, rpoMinutes: 60, onMiss: fail }');
    const out = objectivesAtHandOff(c, c.profiles[0], job);
    expect(out.objectives).toEqual({ rtoMinutes: 30, rpoMinutes: 60, onMiss: 'fail' });
    expect(out.results.map((r) => [r.id, r.status])).toEqual([
      ['rto-objective', 'fail'],
      ['rpo-objective', 'skip'], // no freshness check measured the data age: never a pass
    ]);
    expect(out.results[0]?.detail).toContain('restore time 40 min exceeds the objective of 30 min');
  });

  it('hands only the objectives, no results, when a miss is reported and not failed', () => {
    const c = config('{ rtoMinutes: 30 }');
    const out = objectivesAtHandOff(c, c.profiles[0], job);
    expect(out.objectives).toEqual({ rtoMinutes: 30, onMiss: 'report' });
    expect(out.results).toEqual([]);
  });

  it('hands nothing when neither the profile nor the defaults set objectives', () => {
    const c = parseConfigText('version: 1\n');
    expect(objectivesAtHandOff(c, undefined, job)).toEqual({ results: [] });
  });
});
