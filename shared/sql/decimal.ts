/**
 * Exact comparison of numbers as databases return them. `bigint` and `numeric`/`decimal` columns come
 * back from `pg` and `mysql2` as strings because they do not fit a JavaScript number; comparing them as
 * floats would call `9007199254740993` equal to `9007199254740992`. Values are parsed into a BigInt
 * with a decimal scale and compared exactly.
 */

/** A decimal as `digits × 10^-scale`. */
export interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const DECIMAL = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

/** Parses a number, bigint or numeric string; undefined when the value is not a finite number. */
export function toDecimal(value: unknown): Decimal | undefined {
  if (typeof value === 'bigint') return { digits: value, scale: 0 };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return toDecimal(String(value));
  }
  if (typeof value !== 'string') return undefined;
  const m = DECIMAL.exec(value);
  if (!m) return undefined;
  const [, sign, int = '', frac = '', exp] = m;
  if (int === '' && frac === '') return undefined;
  let digits = BigInt(`${int}${frac}` || '0');
  let scale = frac.length - Number(exp ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits: sign === '-' ? -digits : digits, scale };
}

/** True when the value is a number or a string that reads as one. */
export const isNumeric = (value: unknown): boolean => toDecimal(value) !== undefined;

/** -1, 0 or 1 as a < b, a = b, a > b; exact for any size and scale. */
export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const x = a.digits * 10n ** BigInt(scale - a.scale);
  const y = b.digits * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Compares two numeric values; undefined when either is not numeric. */
export function compareNumeric(a: unknown, b: unknown): -1 | 0 | 1 | undefined {
  const x = toDecimal(a);
  const y = toDecimal(b);
  return x && y ? compareDecimal(x, y) : undefined;
}

/** A BigInt from an integer value (count(*) results as number or string). */
export function toBigInt(value: unknown): bigint | undefined {
  const d = toDecimal(value);
  if (!d) return undefined;
  const factor = 10n ** BigInt(d.scale);
  return d.digits % factor === 0n ? d.digits / factor : undefined;
}
