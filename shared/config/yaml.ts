/**
 * Config files in YAML (or JSON, which is YAML). Kept apart from load.ts so that Lambda bundles, which
 * read the JSON the stack converted at synth, do not carry the YAML parser.
 */
import { readFileSync } from 'node:fs';
import YAML, { LineCounter, type Range } from 'yaml';
import { ConfigError } from '../errors';
import { type Locate, parseConfig } from './load';
import type { Config } from './schema';

/**
 * Where a config path is in the document: the key of the last mapping entry on the path (or the list
 * item), else the nearest enclosing node that exists (a missing key points at its parent).
 * @see https://eemeli.org/yaml/#linecounter
 */
function locator(doc: YAML.Document, lines: LineCounter): Locate {
  return (path) => {
    let node: unknown = doc.contents;
    let best: Range | undefined = (node as { range?: Range } | null)?.range;
    for (const seg of path) {
      if (YAML.isMap(node)) {
        const pair = node.items.find((p) => (YAML.isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        best = (pair.key as { range?: Range } | null)?.range ?? best;
        node = pair.value;
      } else if (YAML.isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        best = (item as { range?: Range }).range ?? best;
        node = item;
      } else break;
    }
    if (!best) return undefined;
    const { line, col } = lines.linePos(best[0]);
    return { line, column: col };
  };
}

/** Parses YAML or JSON text (JSON is YAML) and validates it; errors carry line and column. */
export function parseConfigText(text: string, file = 'config'): Config {
  const lines = new LineCounter();
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    throw new ConfigError(file, '', `not valid YAML/JSON: ${syntax.message.split('\n')[0]}`, {
      cause: syntax,
      position: pos ? { line: pos.line, column: pos.col } : undefined,
    });
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    throw new ConfigError(file, '', `not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || raw === undefined)
    throw new ConfigError(file, '', 'the file is empty: start with "version: 1"');
  return parseConfig(raw, file, locator(doc, lines));
}

/** Reads and validates a config file. Errors name the file, the path inside it and the problem. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      '',
      `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  return parseConfigText(text, file);
}
