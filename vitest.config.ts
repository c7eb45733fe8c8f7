import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One embedded PostgreSQL server for the whole run (~1 s to start); test files get its URL
    // with inject('postgresAdminUrl') and take a fresh database from it (createTestDatabase).
    globalSetup: ['test/support/postgresGlobalSetup.ts'],
  },
});
