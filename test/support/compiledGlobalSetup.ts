import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, stop } from 'esbuild';
import { BUILD_ENV, ROOT } from './compiled.js';

/**
 * vitest globalSetup: compiles src/ and the non-test files of test/ and bench/ into a temporary
 * directory, one JavaScript file per TypeScript file in the same layout, so that the processes
 * tests start run plain node (compiled.ts says why and how). It takes about a second; the returned teardown
 * removes the directory, also when tests fail.
 *
 * The build is laid out like an installed package: bin/braid.js (a copy of the real one) finds no
 * src/cli/main.ts and runs dist/, a link to the compiled src/, so a compiled fixture importing
 * src/index.js and the CLI share one copy of Braid. package.json (the version, ESM), node_modules
 * and dashboard/ (the dev server's static files) are the checkout's.
 */
export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'braid-test-build-'));
  try {
    await build({
      entryPoints: ['src', 'test', 'bench'].flatMap(typeScriptFiles).map((file) => path.join(ROOT, file)),
      outbase: ROOT,
      outdir: dir,
      format: 'esm',
      platform: 'node',
      // What tsx would emit for this node: no down-levelling.
      target: `node${process.versions.node}`,
      sourcemap: 'linked',
      logLevel: 'error',
    });
  } finally {
    // esbuild's service process is not left running in vitest's own process.
    await stop();
  }
  cpSync(path.join(ROOT, 'src'), path.join(dir, 'src'), {
    recursive: true,
    filter: (source) => !source.endsWith('.ts'),
  });
  cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync('src', path.join(dir, 'dist'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  symlinkSync(path.join(ROOT, 'dashboard'), path.join(dir, 'dashboard'));
  process.env[BUILD_ENV] = dir;
  return () => {
    delete process.env[BUILD_ENV];
    rmSync(dir, { recursive: true, force: true });
  };
}

/** The .ts files under `dir` (relative to the checkout), test files and dot-directories left out. */
function typeScriptFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((file) => path.join(dir, file))
    .filter(
      (file) =>
        file.endsWith('.ts') &&
        !file.endsWith('.test.ts') &&
        !file.split(path.sep).some((part) => part.startsWith('.')),
    );
}
