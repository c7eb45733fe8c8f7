import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layering of DESIGN.md, checked on the sources: imports point one way, with no cycles. The
// model knows nothing of the engine; stores know only the model; the engine knows stores only
// through the Store interface and the cluster only through its own ports; the executor (the
// composition root) wires engine, worker and the concrete stores; server and CLI sit on top.
// Every import form counts: static imports and re-exports (also multi-line and type-only),
// `import()` expressions and `import('...')` types.
const root = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(full);
    return /\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name) ? [full] : [];
  });
}

/** Every module specifier a file imports, in any form. */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) out.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) out.push(expr.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) out.push(arg.text);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal)) out.push(arg.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The file a relative specifier names (`.js` in the source stands for the `.ts` file). */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    path.join(base, 'index.ts'),
  ];
  return candidates.find((c) => {
    try {
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** The layer a file belongs to. Concrete stores are layers of their own, apart from the Store interface. */
function layerOf(file: string): string {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] !== 'src') return rel[0] as string;
  if (rel.length === 2) return `src/${rel[1]}`; // src/index.ts
  if (rel[1] === 'store' && rel.length > 3) return `src/store/${rel[2]}`;
  return `src/${rel[1]}`;
}

const STORE_IMPLS = ['src/store/memory', 'src/store/sqlite', 'src/store/postgres'];
const rules: Record<string, string[]> = {
  'src/model': [],
  'src/store': ['src/model'],
  ...Object.fromEntries(STORE_IMPLS.map((impl) => [impl, ['src/store', 'src/model']])),
  'src/observe': ['src/model', 'src/store'],
  'src/engine': ['src/model', 'src/store', 'src/observe'],
  'src/worker': ['src/engine', 'src/model', 'src/store'],
  'src/executor': ['src/engine', 'src/worker', 'src/model', 'src/store', ...STORE_IMPLS, 'src/observe'],
  'src/index.ts': [
    'src/engine',
    'src/executor',
    'src/worker',
    'src/model',
    'src/store',
    ...STORE_IMPLS,
    'src/observe',
    'src/testing',
  ],
  // Test helpers shipped with the package (ManualClock): built on the engine's ports only.
  'src/testing': ['src/engine'],
  'src/server': ['src/executor', 'src/engine', 'src/model', 'src/store', 'src/observe', 'src/index.ts'],
  'src/cli': [
    'src/server',
    'src/executor',
    'src/engine',
    'src/model',
    'src/store',
    ...STORE_IMPLS,
    'src/observe',
    'src/index.ts',
  ],
  dashboard: [],
};

const files = [...sourceFiles(path.join(root, 'src')), ...sourceFiles(path.join(root, 'dashboard', 'src'))];
const graph = new Map<string, string[]>();
for (const file of files) {
  graph.set(
    file,
    importsOf(file)
      .map((s) => resolve(file, s))
      .filter((t): t is string => t !== undefined),
  );
}
const rel = (file: string) => path.relative(root, file);

describe('the import reader', () => {
  it('sees every import form', () => {
    const text = `
      import { a,
        b } from './multi.js';
      import type { T } from './typeOnly.js';
      export { c } from './reexport.js';
      export * from './star.js';
      const lazy = await import('./dynamic.js');
      let x: import('./importType.js').Shape;
      import './sideEffect.js';
    `;
    expect(importsOf('x.ts', text).sort()).toEqual(
      [
        './dynamic.js',
        './importType.js',
        './multi.js',
        './reexport.js',
        './sideEffect.js',
        './star.js',
        './typeOnly.js',
      ].sort(),
    );
  });
});

describe('layering', () => {
  for (const [layer, may] of Object.entries(rules)) {
    it(`${layer} imports only from ${may.length ? may.join(', ') : 'itself'}`, () => {
      const wrong: string[] = [];
      for (const [file, targets] of graph) {
        if (layerOf(file) !== layer) continue;
        for (const target of targets) {
          const to = layerOf(target);
          if (to !== layer && !may.includes(to)) wrong.push(`${rel(file)} -> ${rel(target)}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  }

  it('the engine never imports the worker, the executor, the CLI, the server or a concrete store', () => {
    const forbidden = ['src/worker', 'src/executor', 'src/cli', 'src/server', ...STORE_IMPLS];
    const wrong = [...graph]
      .filter(([file]) => layerOf(file) === 'src/engine')
      .flatMap(([file, targets]) =>
        targets.filter((t) => forbidden.includes(layerOf(t))).map((t) => `${rel(file)} -> ${rel(t)}`),
      );
    expect(wrong).toEqual([]);
  });

  it('the worker sees the engine only through its ports', () => {
    const wrong = [...graph]
      .filter(([file]) => layerOf(file) === 'src/worker')
      .flatMap(([file, targets]) =>
        targets
          .filter((t) => layerOf(t) === 'src/engine' && rel(t) !== path.join('src', 'engine', 'ports.ts'))
          .map((t) => `${rel(file)} -> ${rel(t)}`),
      );
    expect(wrong).toEqual([]);
  });

  it('has no import cycle anywhere in src/ or the dashboard', () => {
    expect(cyclesOf(graph).map((cycle) => cycle.map(rel).join(' -> '))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(g)).toEqual([['a', 'b', 'c']]);
  });
});

/** The strongly connected components with more than one file (or a file importing itself): Tarjan. */
function cyclesOf(g: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!indexOf.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of g.keys()) if (!indexOf.has(v)) strong(v);
  return out;
}
