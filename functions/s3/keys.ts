/**
 * Key order and key filters. S3 lists keys in ascending UTF-8 byte order, which is code point order;
 * JavaScript's `<` compares UTF-16 code units and disagrees for characters above U+FFFF versus
 * U+E000–U+FFFF, so every merge of two listings must use `compareKeys`.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */

/** Compares two keys in S3 listing order (UTF-8 bytes = code points). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points ≥ 0x10000, which sort after every BMP character.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Include/exclude prefixes. An empty include list means every key. */
export interface KeyFilter {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
}

export function keyMatches(key: string, filter: KeyFilter): boolean {
  if (filter.exclude?.some((p) => key.startsWith(p))) return false;
  if (!filter.include || filter.include.length === 0) return true;
  return filter.include.some((p) => key.startsWith(p));
}

/**
 * The single listing prefix that covers every include prefix (their longest common prefix), so a
 * listing asks S3 for as little as possible; the filter then drops what the prefix lets through.
 */
export function listingPrefix(filter: KeyFilter): string | undefined {
  const inc = filter.include;
  if (!inc || inc.length === 0) return undefined;
  let p = inc[0] ?? '';
  for (const s of inc.slice(1)) {
    let i = 0;
    while (i < p.length && i < s.length && p[i] === s[i]) i++;
    p = p.slice(0, i);
  }
  return p || undefined;
}

/** A half-open slice of the key space in listing order: keys `> after` and `<= upTo` (either may be open). */
export interface KeyRange {
  readonly after?: string;
  readonly upTo?: string;
}

export function inRange(key: string, range: KeyRange): boolean {
  if (range.after !== undefined && compareKeys(key, range.after) <= 0) return false;
  if (range.upTo !== undefined && compareKeys(key, range.upTo) > 0) return false;
  return true;
}
