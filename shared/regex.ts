/**
 * Regular expressions and globs from the config, run in linear time.
 *
 * Patterns come from users and are matched against restored data (query results, command output,
 * HTTP bodies) and ARNs. JavaScript's RegExp backtracks: `(a+)+$` on 30 characters of restored data
 * blocks the event loop for seconds, and no check timeout can interrupt synchronous work. RE2 (the
 * pure-JavaScript port `re2js`) matches in time linear in the input, so a check's deadline holds.
 * What RE2 cannot run in linear time (backreferences, lookahead/lookbehind) is refused when the
 * config is loaded, with the reason.
 * @see https://github.com/google/re2/wiki/Syntax
 */
import { RE2JS } from 're2js';

/** A compiled pattern: `test` answers whether it matches anywhere in the text (like RegExp#test). */
export interface LinearRegex {
  /** The pattern as the user wrote it. */
  readonly source: string;
  test(text: string): boolean;
  /** Index of the first match in `text`, or -1 (like String#search). */
  search(text: string): number;
}

const linear = (source: string, re: RE2JS): LinearRegex => ({
  source,
  test: (text) => re.test(text),
  search: (text) => {
    const m = re.matcher(text);
    return m.find() ? m.start() : -1;
  },
});

export interface RegexOptions {
  /** `^` and `$` also match at line breaks (RegExp flag `m`). */
  readonly multiline?: boolean;
  readonly ignoreCase?: boolean;
}

/** A pattern RE2 cannot compile. The message says why and what to change. */
export class RegexSyntaxError extends Error {
  constructor(source: string, reason: string) {
    super(
      `invalid regular expression /${source}/: ${reason} (patterns run on RE2: no backreferences or lookaround)`,
    );
    this.name = 'RegexSyntaxError';
  }
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^error parsing regexp: /, '');
}

/** Compiles a JavaScript-style regular expression for RE2; throws RegexSyntaxError. */
export function compileRegex(source: string, options: RegexOptions = {}): LinearRegex {
  const flags = (options.multiline ? RE2JS.MULTILINE : 0) | (options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(source), flags);
  } catch (err) {
    throw new RegexSyntaxError(source, reasonOf(err));
  }
  return linear(source, re);
}

/** Why a pattern cannot be used, or undefined when it compiles (for config validation). */
export function regexProblem(source: string): string | undefined {
  try {
    compileRegex(source);
    return undefined;
  } catch (err) {
    return reasonOf(err);
  }
}

/**
 * Compiles a glob to a whole-string RE2 match. `*` and `**` match any run of characters (also `/`
 * and `:`, so `arn:aws:rds:*:*:db:orders-*` spans an ARN), `?` one character, `[abc]`, `[a-z]` and
 * `[!abc]` a class, `{a,b}` alternatives (nestable), `\x` the character x; everything else is literal.
 */
export function compileGlob(glob: string): LinearRegex {
  let out = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '\\' && i + 1 < glob.length) out += RE2JS.quote(glob[++i] ?? '');
    else if (c === '*') {
      while (glob[i + 1] === '*') i++;
      out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        const negated = body.startsWith('!') || body.startsWith('^');
        const members = (negated ? body.slice(1) : body).replace(/[\\\]^[]/g, '\\$&');
        out += `[${negated ? '^' : ''}${members}]`;
        i = end;
      }
    } else if (c === '{') {
      depth++;
      out += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (c === ',' && depth > 0) out += '|';
    else out += RE2JS.quote(c);
  }
  if (depth > 0) throw new RegexSyntaxError(glob, 'unclosed { in glob');
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${out})$`);
  } catch (err) {
    throw new RegexSyntaxError(glob, reasonOf(err));
  }
  return linear(glob, re);
}
