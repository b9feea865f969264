import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The restore job event fixtures shipped in ../shared/fixtures/events (and our own in test/fixtures/events). */
export const FIXTURE_DIRS = [
  join(import.meta.dirname, '../../../shared/fixtures/events'),
  join(import.meta.dirname, '../fixtures/events'),
];

export function fixtureNames(): string[] {
  return FIXTURE_DIRS.flatMap((d) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  });
}

/** A fresh copy of a fixture event. */
export function fixture(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  for (const d of FIXTURE_DIRS) {
    try {
      return JSON.parse(readFileSync(join(d, name), 'utf8'));
    } catch {
      // try the next folder
    }
  }
  throw new Error(`no fixture ${name}`);
}
