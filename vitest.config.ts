import { defineConfig } from 'vitest/config';

// The tests of the test set-up itself (test/runner/) run this very config on fixtures kept outside
// the normal include: BRAID_TEST_FIXTURES names a directory of `*.fixture.ts` files to run instead.
const fixtures = process.env.BRAID_TEST_FIXTURES;
const include = fixtures ? [`${fixtures}/**/*.fixture.ts`] : ['src/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    include,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One embedded PostgreSQL server for the whole run (~1 s to start); test files get its URL
    // with inject('postgresAdminUrl') and take a fresh database from it (createTestDatabase).
    globalSetup: ['test/support/postgresGlobalSetup.ts'],
  },
});
