import { configDefaults, defineConfig } from 'vitest/config';

const BROWSER_TESTS = '**/*.e2e.test.ts';
const BROWSER_FIXTURES = '**/*.e2e.fixture.ts';

// The tests of the test set-up itself (test/runner/) run this very config on fixtures kept outside
// the normal include: BRAID_TEST_FIXTURES names a directory of `*.fixture.ts` files to run instead.
const fixtures = process.env.BRAID_TEST_FIXTURES;
const include = fixtures ? [`${fixtures}/**/*.fixture.ts`] : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const browserInclude = fixtures ? [`${fixtures}/${BROWSER_FIXTURES}`] : [`test/${BROWSER_TESTS}`];

export default defineConfig({
  test: {
    // A limit for hangs, not a speed target. Now that a failure fails the run, 30 s proved too
    // tight for the CLI tests (a dozen concurrent tests, each starting `braid` processes through
    // tsx) on this 2-core machine when other work shares it: 7 of them timed out at 30 s under a
    // load of ~15 and passed alone in ~16 s.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker (cores - 1), which leaves a core idle while
    // the crash and PostgreSQL tests wait on their child processes: two keep the suite under 10 min.
    maxWorkers: 2,
    // A project's globalSetup runs only when that project has tests to run, so a run without the
    // browser tests needs no Chromium, and one with them checks for it before any test starts.
    projects: [
      {
        extends: true,
        test: {
          name: 'braid',
          include,
          exclude: [...configDefaults.exclude, BROWSER_TESTS, BROWSER_FIXTURES],
          // The sources and test scripts compiled once, for the processes tests start (plain node
          // instead of the tsx loader: test/support/compiled.ts). Then one embedded PostgreSQL server
          // for the whole run (~1 s to start); test files get its URL with inject('postgresAdminUrl')
          // and take a fresh database from it (createTestDatabase).
          globalSetup: ['test/support/compiledGlobalSetup.ts', 'test/support/postgresGlobalSetup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: browserInclude,
          // Debian's Chromium, installed when missing and this process can (see test/support/chromium.ts).
          globalSetup: ['test/support/chromiumGlobalSetup.ts'],
        },
      },
    ],
  },
});
