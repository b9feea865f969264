/**
 * One way for every benchmark to judge a measurement against its target: each call prints one
 * line `target <bench>/<what>: <value> (target <op> <limit>) met|MISSED` and is remembered, so
 * `npm run bench` ends with every target of the run and whether it was met.
 */
export interface Judged {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  readonly op: '<' | '≤' | '≥';
  readonly unit: string;
  readonly met: boolean;
}

const judged: Judged[] = [];

/** Judges `value` against `limit` (`op` says which side is good), prints the line and returns whether it was met. */
export function judge(name: string, value: number, op: Judged['op'], limit: number, unit = ''): boolean {
  const met = op === '<' ? value < limit : op === '≤' ? value <= limit : value >= limit;
  judged.push({ name, value, limit, op, unit, met });
  process.stdout.write(
    `target ${name}: ${fmt(value, unit)} (target ${op} ${fmt(limit, unit)}) ${met ? 'met' : 'MISSED'}\n`,
  );
  return met;
}

/** Every target judged so far in this process. */
export function allJudged(): readonly Judged[] {
  return judged;
}

function fmt(v: number, unit: string): string {
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}
