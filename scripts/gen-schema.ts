/** Writes validation.config.schema.json from the zod schema (committed for editor completion). */
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../shared/config/index';

export const SCHEMA_FILE = 'validation.config.schema.json';

export function schemaText(): string {
  return `${JSON.stringify({ title: 'restore-validation config', ...configJsonSchema() }, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
