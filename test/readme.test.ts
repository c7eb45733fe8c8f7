/**
 * The README's examples are programs, and these tests hold them to what the README says of them:
 *
 * - Every ```ts block type-checks under the project's compiler options (tsconfig.json: strict,
 *   noUncheckedIndexedAccess...), with `braid` and `braid/server` resolved to the sources.
 * - Every ```ts block runs and prints exactly what its comments say. The convention: a
 *   `console.log(...)` followed on the line where it ends by `// text` prints `text` as one whole
 *   line, and those comments, in source order, are the block's whole standard output. A comment
 *   that ends in ` ...` elides the rest of its line (the printed line starts with what comes
 *   before); keep that rare. Any other comment is prose.
 * - Every `braid run <workflow> --input '<json>'` line of a ```sh block names a workflow of
 *   examples/workflows.ts, and its input passes that workflow's schema.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as examples from '../examples/workflows.js';
import { Workflow } from '../src/index.js';
import { twinPath } from './support/compiled.js';
import { createTestDatabase } from './support/embeddedPostgres.js';

const root = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const shellLines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => (m[1] as string).split('\n'));
// Inside the repository so that the examples' imports (zod...) resolve; git and biome ignore it.
const workDir = path.join(root, 'test', '.readme');
const dataDir = mkdtempSync(path.join(tmpdir(), 'braid-readme-'));
const ELIDED = ' ...';

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

/** The block as a file of this repository: `braid` imports point at the sources. */
function writeExample(code: string, index: number): string {
  mkdirSync(workDir, { recursive: true });
  const file = path.join(workDir, `example${index + 1}.ts`);
  writeFileSync(
    file,
    code
      .replaceAll("from 'braid/server'", "from '../../src/server/index.js'")
      .replaceAll("from 'braid'", "from '../../src/index.js'"),
  );
  return file;
}

/**
 * node's arguments to run an example: in the run's build (test/support/compiled.ts), where its
 * imports reach the compiled sources, as plain JavaScript; else the file itself through tsx.
 */
function runnable(file: string): string[] {
  // Written at test time, the example has no twin yet: transpile it into its place in the build.
  const twin = twinPath(file);
  if (twin === null) return ['--import', 'tsx', file];
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
  });
  mkdirSync(path.dirname(twin), { recursive: true });
  writeFileSync(twin, outputText);
  return [twin];
}

/** The output lines a block's comments promise, in source order (see the header for the convention). */
function expectedOutput(code: string): string[] {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.Latest, true);
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && node.expression.getText(source) === 'console.log') calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);
  const lines: string[] = [];
  for (const call of calls.sort((a, b) => a.getStart(source) - b.getStart(source))) {
    // What follows the call on its last line: closing punctuation, then the comment, if any.
    const lineEnd = code.indexOf('\n', call.end);
    const rest = code.slice(call.end, lineEnd === -1 ? undefined : lineEnd);
    const comment = /^[\s;,)\]}]*\/\/ (.*)$/.exec(rest);
    if (comment) lines.push((comment[1] as string).trimEnd());
  }
  return lines;
}

/** `printed` with each line an elided expectation accounts for replaced by that expectation. */
function matchElisions(printed: string[], expected: string[]): string[] {
  return printed.map((line, i) => {
    const want = expected[i];
    return want?.endsWith(ELIDED) && line.startsWith(want.slice(0, -ELIDED.length)) ? want : line;
  });
}

describe('README examples', () => {
  const files = blocks.map(writeExample);
  let program: ts.Program;

  beforeAll(() => {
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    );
    if (!config) throw new Error('tsconfig.json could not be read');
    program = ts.createProgram(files, { ...config.options, noEmit: true });
  }, 120_000);

  it('has examples, all in the project compiler settings', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(9);
    const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    expect(global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  blocks.forEach((code, i) => {
    const title = `example ${i + 1} (${(code.split('\n').find((l) => l.startsWith('const ')) ?? '').slice(0, 50)})`;
    const file = files[i] as string;

    it(`type-checks ${title}`, () => {
      const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(file));
      const messages = diagnostics.map((d) => {
        const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
        return `line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(messages).toEqual([]);
    });

    it(`prints exactly what ${title} says`, async () => {
      // An example that uses PostgreSQL gets a fresh database of the test server; the others none.
      const database = code.includes('BRAID_DATABASE_URL') ? await createTestDatabase() : undefined;
      const run = spawnSync(process.execPath, runnable(file), {
        cwd: root,
        env: {
          ...process.env,
          BRAID_DB: path.join(dataDir, `example${i + 1}.db`),
          BRAID_DATABASE_URL: database?.url ?? '',
          NO_COLOR: '1',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      await database?.drop();
      expect(run.status, run.stderr).toBe(0);
      const expected = expectedOutput(code);
      expect(expected.length, 'an example with no output comment shows nothing').toBeGreaterThan(0);
      const printed = run.stdout.replace(/\n$/, '').split('\n');
      expect(matchElisions(printed, expected)).toEqual(expected);
    });
  });
});

describe('the convention for output comments', () => {
  it('reads the comment after each console.log, in source order, wherever the call ends', () => {
    const code = [
      "const h = { a: (x: string) => console.log('a', x), // a 1",
      "  b: () => console.log('b') };",
      'console.log(1, [2]); // 1 [ 2 ]',
      '// prose, not output',
      'console.log(',
      "  'long',",
      '); // long',
      "console.log('not //', 'a comment'); // not // a comment",
      "console.log({ id: 'x', at: Date.now() }); // { id: 'x', ...",
    ].join('\n');
    expect(expectedOutput(code)).toEqual(['a 1', '1 [ 2 ]', 'long', 'not // a comment', "{ id: 'x', ..."]);
  });

  it('matches an elided line by its start only', () => {
    expect(matchElisions(["{ id: 'x', at: 17 }", 'b'], ["{ id: 'x', ...", 'b'])).toEqual(["{ id: 'x', ...", 'b']);
    expect(matchElisions(["{ id: 'y' }"], ["{ id: 'x', ..."])).toEqual(["{ id: 'y' }"]);
  });
});

describe("the README's CLI lines", () => {
  const runs = shellLines
    .map((line) => /braid run (\S+) --input '([^']*)'/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && !(m[1] as string).startsWith('<'));
  const workflows = new Map(
    Object.values(examples)
      .flat()
      .filter((w): w is Workflow<any, any, any> => w instanceof Workflow)
      .map((w) => [w.name, w]),
  );

  it('has `braid run` examples to check', () => {
    expect(runs.length).toBeGreaterThanOrEqual(1);
  });

  it.each(runs.map((m) => [m[1] as string, m[2] as string]))(
    'braid run %s --input %s fits the workflow of examples/workflows.ts',
    async (name, input) => {
      const wf = workflows.get(name);
      expect(wf, `examples/workflows.ts has no workflow "${name}"`).toBeDefined();
      const schema = wf?.options.input;
      expect(schema, `workflow "${name}" has no input schema to check against`).toBeDefined();
      const result = await schema?.['~standard'].validate(JSON.parse(input));
      expect(result?.issues).toBeUndefined();
    },
  );
});
