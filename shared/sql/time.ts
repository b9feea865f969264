/**
 * Turning what a database returns for "the newest timestamp" into an instant. Drivers are told to
 * return timestamps as text (see connection.ts), so nothing depends on the Lambda's or laptop's time
 * zone: text with an offset (`timestamptz`, `… +00`, ISO `Z`) is absolute; text without one
 * (`timestamp without time zone`, MySQL `DATETIME`) is read in the check's `timeZone` (default UTC,
 * which is what RDS runs in unless a parameter group says otherwise). Numbers are Unix epoch
 * seconds (or milliseconds when they are that large).
 */

const TS =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?\s*$/i;

/** The offset of `timeZone` from UTC at the given UTC instant, in ms (e.g. Europe/Berlin in winter: 3,600,000). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Validates an IANA zone name; throws a readable error for a typo. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(`unknown time zone "${timeZone}": use an IANA name such as UTC or Europe/Berlin`);
  }
}

/**
 * Parses a timestamp value from a query. Returns undefined for NULL, throws for a value that is not
 * a timestamp (with its kind, never its content).
 */
export function parseDbTimestamp(value: unknown, timeZone = 'UTC'): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('the value is an invalid date');
    return value;
  }
  if (
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    (typeof value === 'string' && /^\s*\d{9,16}(\.\d+)?\s*$/.test(value))
  ) {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new TypeError('the value is not a finite number');
    return new Date(n > 1e11 ? n : n * 1000);
  }
  if (typeof value !== 'string') throw new TypeError(`expected a timestamp, got a ${typeof value}`);
  const m = TS.exec(value);
  if (!m) throw new TypeError(`expected a timestamp, got text that is not one (${value.length} characters)`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(wall)) throw new TypeError('the timestamp is out of range');
  if (zone) {
    if (zone.toUpperCase() === 'Z') return new Date(wall);
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replaceAll(':', '');
    const offset =
      (Number(digits.slice(0, 2)) * 3600 +
        Number(digits.slice(2, 4) || 0) * 60 +
        Number(digits.slice(4, 6) || 0)) *
      1000;
    return new Date(wall - sign * offset);
  }
  if (timeZone === 'UTC') return new Date(wall);
  // Wall-clock time in a zone: subtract the zone's offset, re-evaluated once for instants near a DST change.
  const first = wall - zoneOffsetMs(timeZone, wall);
  return new Date(wall - zoneOffsetMs(timeZone, first));
}
