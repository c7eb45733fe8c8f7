/**
 * Compiles a checkout's src/, bench/ and test/support/ to JavaScript (one file per file, as
 * test/support/compiledGlobalSetup.ts does for the tests), so its rows run on plain node:
 *
 *   npx tsx bench/compileCheckout.ts /tmp/base /tmp/base-js
 *   node --expose-gc /tmp/base-js/bench/measure.js W1 memory
 *
 * Why: under tsx, functions are wrapped for their names (`__name`), which cost main ~2 % in a W3
 * profile and the tree before the engine split nothing like it, so two trees compared through tsx
 * are not compared fairly.
 * Compiled, both run the same way an installed package does. The checkout's own node_modules and
 * non-TypeScript files (migrations) are linked and copied beside the output.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const [checkout, out] = process.argv.slice(2).map((p) => path.resolve(p));
if (!checkout || !out || !existsSync(path.join(checkout, 'src'))) {
  console.error('usage: compileCheckout.ts <checkout with src/> <output directory (replaced)>');
  process.exit(2);
}
const dirs = ['src', 'bench', 'test/support'].filter((dir) => existsSync(path.join(checkout, dir)));
const files = dirs.flatMap((dir) =>
  readdirSync(path.join(checkout, dir), { recursive: true, encoding: 'utf8' })
    .map((file) => path.join(dir, file))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts')),
);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: files.map((file) => path.join(checkout, file)),
  outbase: checkout,
  outdir: out,
  format: 'esm',
  platform: 'node',
  target: `node${process.versions.node}`,
  logLevel: 'error',
});
cpSync(path.join(checkout, 'src'), path.join(out, 'src'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
cpSync(path.join(checkout, 'package.json'), path.join(out, 'package.json'));
symlinkSync(path.join(checkout, 'node_modules'), path.join(out, 'node_modules'));
console.log(`compiled ${files.length} files of ${checkout} into ${out}`);
