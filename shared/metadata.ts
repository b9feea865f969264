/**
 * `GetRestoreJobMetadata` returns `{string: string}`. Keys are treated case-insensitively and list values
 * arrive JSON-encoded (`"[\"sg-1\"]"`).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-a-backup.html
 */
export class RestoreMetadata {
  readonly raw: Readonly<Record<string, string>>;
  readonly #byLower: Map<string, string>;

  constructor(raw: Record<string, string | undefined> = {}) {
    const clean: Record<string, string> = {};
    this.#byLower = new Map();
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') continue;
      clean[k] = v;
      this.#byLower.set(k.toLowerCase(), v);
    }
    this.raw = clean;
  }

  /** The value of a key (any case), or undefined. Blank values count as absent. */
  get(key: string): string | undefined {
    const v = this.#byLower.get(key.toLowerCase());
    return v === undefined || v.trim() === '' ? undefined : v;
  }

  /** A list value: JSON-encoded arrays are decoded; a comma-separated or single value becomes a list. */
  getList(key: string): string[] {
    const v = this.get(key);
    if (v === undefined) return [];
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(t);
        if (Array.isArray(parsed)) return parsed.map(String);
      } catch {
        // fall through: treat as plain text
      }
    }
    return t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  /** A boolean value ("true"/"false", any case). */
  getBoolean(key: string): boolean | undefined {
    const v = this.get(key)?.toLowerCase();
    return v === 'true' ? true : v === 'false' ? false : undefined;
  }

  toJSON(): Record<string, string> {
    return { ...this.raw };
  }
}
