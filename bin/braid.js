#!/usr/bin/env node
// The `braid` command. In a source checkout (src/ beside bin/, and the tsx dev dependency) it runs
// the TypeScript sources, so the command is always the code you have even when dist/ (built on
// install) is older than an edit; an installed package ships only dist/, and runs that.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(dist)) {
  await import(dist.href);
} else {
  console.error('braid is not built: run `npm run build` (npm install runs it) in the package directory.');
  process.exit(1);
}
