/**
 * The JavaScript twins of this checkout's TypeScript files, for the processes tests start.
 *
 * Node with the tsx loader spends ~0.6 CPU-s more starting than plain node (its resolve hook
 * answers every import on a thread of its own: a `braid` command took ~1.1 CPU-s, ~0.35 s compiled);
 * the suite starts hundreds of processes (each `braid` command, each crash-test worker life). So the
 * run's global setup (compiledGlobalSetup.ts) compiles src/, test/ and bench/ once, and processes
 * run the compiled files with plain node. Without that setup (a test file run under
 * another config), everything falls back to the tsx loader on the sources.
 *
 * No vitest import here: worker scripts load this module's importers too.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Set by the global setup, inherited by the test workers: the build's root directory. */
export const BUILD_ENV = 'BRAID_TEST_BUILD';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Where the build keeps the twin of `file` (a .ts file of this checkout), whether or not it is
 * there; null without a build, or for a file outside the checkout.
 */
export function twinPath(file: string): string | null {
  const build = process.env[BUILD_ENV];
  if (!build || !path.isAbsolute(file) || !file.endsWith('.ts')) return null;
  const relative = path.relative(ROOT, file);
  if (relative.startsWith('..')) return null;
  return path.join(build, relative.replace(/\.ts$/, '.js'));
}

/** The compiled twin of `file` (a .ts file of this checkout), or `file` itself when there is none. */
export function compiledPath(file: string): string {
  const twin = twinPath(file);
  return twin !== null && existsSync(twin) ? twin : file;
}

/** node's arguments to run the TypeScript `script`: its compiled twin, or the source through tsx. */
export function nodeArgs(script: string): string[] {
  const twin = compiledPath(script);
  return twin === script ? ['--import', 'tsx', script] : [twin];
}

/**
 * The `braid` command: the build's copy of bin/braid.js, which runs the compiled CLI the way an
 * installed package runs dist/ (the build has no src/cli/main.ts beside it); else the checkout's.
 */
export function braidBin(): string {
  const build = process.env[BUILD_ENV];
  return build ? path.join(build, 'bin', 'braid.js') : path.join(ROOT, 'bin', 'braid.js');
}
