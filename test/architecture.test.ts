import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering of DESIGN.md, checked on the sources: imports point down only. The model knows
// nothing of the engine; stores know only the model; the engine knows stores only through the
// Store interface; server, CLI and dashboard sit on top.
const root = path.resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : files(full);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The top-level area (model, engine, store, ...) each relative import of `file` lands in. */
function importedAreas(file: string): Array<{ area: string; line: string }> {
  const out: Array<{ area: string; line: string }> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:import|export)\b.*from '(\.[^']+)'/.exec(line);
    if (!m) continue;
    const target = path.resolve(path.dirname(file), m[1] as string);
    const rel = path.relative(root, target).split(path.sep);
    const area =
      rel[0] !== 'src' ? (rel[0] as string) : rel[1]?.startsWith('index.') ? 'src/index.ts' : `src/${rel[1]}`;
    out.push({ area, line: line.trim() });
  }
  return out;
}

const rules: Array<{ from: string; may: string[] }> = [
  { from: 'src/model', may: ['src/model'] },
  { from: 'src/store', may: ['src/store', 'src/model'] },
  { from: 'src/observe', may: ['src/observe', 'src/model', 'src/engine'] },
  // The engine reaches the worker only in executor.ts, which joins a cluster on a scale-out store
  // (checked below); src/worker implements the engine's Cluster interface on top of the engine.
  { from: 'src/engine', may: ['src/engine', 'src/model', 'src/store', 'src/observe', 'src/worker'] },
  { from: 'src/worker', may: ['src/worker', 'src/engine', 'src/model', 'src/store'] },
  { from: 'src/server', may: ['src/server', 'src/engine', 'src/model', 'src/store', 'src/observe', 'src/index.ts'] },
  {
    from: 'src/cli',
    may: ['src/cli', 'src/server', 'src/engine', 'src/model', 'src/store', 'src/observe', 'src/index.ts'],
  },
  { from: 'dashboard', may: ['dashboard'] },
];

describe('layering', () => {
  for (const rule of rules) {
    it(`${rule.from} imports only from ${rule.may.join(', ')}`, () => {
      const wrong = files(path.join(root, rule.from)).flatMap((file) =>
        importedAreas(file)
          .filter(({ area }) => !rule.may.includes(area))
          .map(({ line }) => `${path.relative(root, file)}: ${line}`),
      );
      expect(wrong).toEqual([]);
    });
  }

  it('the engine reaches stores only through the Store interface, not a concrete store', () => {
    const concrete = files(path.join(root, 'src/engine')).flatMap((file) =>
      importedAreas(file)
        .filter(({ line }) => /store\/(sqlite|memory|postgres)\/|\.\.\/worker\//.test(line))
        .map(({ line }) => `${path.relative(root, file)}: ${line}`),
    );
    // The executor picks the default store (Postgres when BRAID_DATABASE_URL is set, else SQLite)
    // for users who pass none, and joins the cluster on a scale-out store; nothing else may.
    expect(concrete).toEqual([
      expect.stringMatching(/^src\/engine\/executor\.ts: .*postgres\/postgresStore/),
      expect.stringMatching(/^src\/engine\/executor\.ts: .*sqlite\/sqliteStore/),
      expect.stringMatching(/^src\/engine\/executor\.ts: .*worker\/clusterMember/),
    ]);
  });
});
