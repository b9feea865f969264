import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    // Two cores here, but a file spends much of its time waiting on an engine (PostgreSQL, MariaDB, moto,
    // Chromium, esbuild): with two workers the suite kept only ~1.3 cores busy, so a third overlaps those waits.
    maxWorkers: 3,
    // Hang guards, not speed limits: a synth, a bundle or a packed app on a busy 2-core machine can
    // take a minute on its own, and speed targets live in `npm run bench`, never in tests.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    setupFiles: ['test/support/setup.ts'],
    // One moto server per worker slot for the whole run (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
