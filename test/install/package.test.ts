/**
 * What `npm install` leaves: package.json's `prepare` builds dist/ (tsc) and dashboard/dist (vite),
 * and everything the package points at is something that build produces. And the `braid` command
 * runs the sources in a checkout (dist/ may be older than an edit) and dist/ in an installed package.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  exports: Record<string, { types: string; import: string }>;
  bin: Record<string, string>;
  files: string[];
};
const tsconfigBuild = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
  compilerOptions: { rootDir: string; outDir: string };
};

/** The source file tsc compiles into `built` (./dist/x/y.js ← src/x/y.ts). */
function sourceOf(built: string): string {
  const { rootDir, outDir } = tsconfigBuild.compilerOptions;
  const relative = path.relative(outDir, path.normalize(built));
  expect(relative.startsWith('..'), `${built} is not under the build's outDir ${outDir}`).toBe(false);
  return path.join(ROOT, rootDir, relative.replace(/\.d\.ts$|\.js$/, '.ts'));
}

describe('npm install builds what the package points at', () => {
  it('runs the build on install (prepare), and the build compiles the sources and the dashboard', () => {
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
    expect(pkg.scripts.build).toContain('npm run dashboard:build');
    expect(pkg.scripts['dashboard:build']).toContain('vite build --config dashboard/vite.config.ts');
  });

  it('maps every export to a source file the build compiles, and ships it', () => {
    for (const [name, target] of Object.entries(pkg.exports)) {
      for (const built of [target.import, target.types]) {
        expect(existsSync(sourceOf(built)), `export "${name}": ${built} has no source`).toBe(true);
      }
    }
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'bin', 'dashboard/dist']));
  });

  it('gives the braid command, whose compiled form the build produces', () => {
    expect(pkg.bin.braid).toBe('./bin/braid.js');
    expect(existsSync(sourceOf('dist/cli/main.js'))).toBe(true);
  });
});

describe('the braid command picks what to run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'braid-bin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A package laid out like Braid's with stand-in entry points that say which one ran. */
  function layout(name: string, parts: { source?: boolean; dist?: boolean; tsx?: boolean }): string {
    const root = path.join(dir, name);
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    cpSync(path.join(ROOT, 'bin', 'braid.js'), path.join(root, 'bin', 'braid.js'));
    writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }');
    if (parts.source) {
      mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
      writeFileSync(path.join(root, 'src', 'cli', 'main.ts'), "const ran: string = 'sources';\nconsole.log(ran);\n");
    }
    if (parts.dist) {
      mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
      writeFileSync(path.join(root, 'dist', 'cli', 'main.js'), "console.log('dist');\n");
    }
    if (parts.tsx) symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    return path.join(root, 'bin', 'braid.js');
  }
  const run = (bin: string) => spawnSync(process.execPath, [bin], { encoding: 'utf8', timeout: 30_000 });

  it('runs the sources in a checkout, even when a build is there', () => {
    const result = run(layout('checkout', { source: true, dist: true, tsx: true }));
    expect(result.stdout.trim(), result.stderr).toBe('sources');
  });

  it('runs dist/ in an installed package (no sources, no tsx)', () => {
    const result = run(layout('installed', { dist: true }));
    expect(result.stdout.trim(), result.stderr).toBe('dist');
  });

  it('runs dist/ in a checkout installed without dev dependencies (no tsx)', () => {
    const result = run(layout('no-dev', { source: true, dist: true }));
    expect(result.stdout.trim(), result.stderr).toBe('dist');
  });

  it('says how to build when there is nothing to run', () => {
    const result = run(layout('unbuilt', { source: true }));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('run `npm run build`');
  });
});
