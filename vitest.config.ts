import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    // Two cores here: each file may start its own engine (PostgreSQL, MariaDB, moto), so keep it modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    setupFiles: ['test/support/setup.ts'],
    // One moto server per worker slot for the whole run (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
  },
});
