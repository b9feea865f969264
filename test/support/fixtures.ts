import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The restore job event fixtures shipped in ../shared/fixtures/events, and a copy of them in
 * test/fixtures/events so a clone without ../shared beside it still has every fixture. A name in both
 * is read from ../shared first (the source); each name is listed once.
 */
export const FIXTURE_DIRS = [
  join(import.meta.dirname, '../../../shared/fixtures/events'),
  join(import.meta.dirname, '../fixtures/events'),
];

export function fixtureNames(): string[] {
  const names = FIXTURE_DIRS.flatMap((d) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  });
  return [...new Set(names)];
}

/** The file of a fixture: ../shared's when it is there, else the copy. */
export function fixturePath(name: string): string {
  const found = FIXTURE_DIRS.map((d) => join(d, name)).find((f) => existsSync(f));
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

/** A fresh copy of a fixture event. */
export function fixture(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8'));
}
