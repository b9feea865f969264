/**
 * One way for every benchmark to judge a measurement against its target: each call prints one
 * line `target <bench>/<what>: <value> (target <op> <limit>) met|MISSED` and is remembered, so
 * `npm run bench` ends with every target of the run, its value and whether it was met.
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
  // A value that could not be measured (NaN) meets no target.
  const met = op === '<' ? value < limit : op === '≤' ? value <= limit : value >= limit;
  const j: Judged = { name, value, limit, op, unit, met };
  judged.push(j);
  process.stdout.write(`target ${describe(j)} ${met ? 'met' : 'MISSED'}\n`);
  return met;
}

/** `<name>: <value> (target <op> <limit>)`, as the judge line and the run's closing list print it. */
export function describe(j: Judged): string {
  return `${j.name}: ${fmt(j.value, j.unit)} (target ${j.op} ${fmt(j.limit, j.unit)})`;
}

/** Every target judged so far in this process. */
export function allJudged(): readonly Judged[] {
  return judged;
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'not measured';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}
