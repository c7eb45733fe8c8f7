import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/embeddedPostgres.js';

// Every ```ts block of the README that imports 'braid' is run as a program. A `console.log(...)`
// followed by `// text` must print a line that starts with that text (the part before ": " when
// the comment goes on to explain, or before "..." when it elides the rest).
const root = path.resolve(import.meta.dirname, '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1] as string)
  .filter((code) => code.includes("from 'braid"));
const workDir = path.join(root, 'test', '.readme');
const dataDir = mkdtempSync(path.join(tmpdir(), 'braid-readme-'));

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

function expectations(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const m = /console\.log\(.*\);\s*\/\/ (.+)$/.exec(line);
    if (!m) continue;
    const text = m[1] as string;
    out.push(text.split(/\.\.\.|(?<=[\]}\w]): /)[0]?.trim() as string);
  }
  return out;
}

describe('README examples', () => {
  it('has runnable examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.startsWith('const ')) ?? `example ${i + 1}`;
    it(`runs example ${i + 1} (${title.slice(0, 50)})`, async () => {
      // An example that uses PostgreSQL gets a fresh database of the test server; the others none.
      const database = code.includes('BRAID_DATABASE_URL') ? await createTestDatabase() : undefined;
      mkdirSync(workDir, { recursive: true });
      const file = path.join(workDir, `example${i + 1}.ts`);
      writeFileSync(
        file,
        code
          .replaceAll("from 'braid/server'", `from '${path.join(root, 'src', 'server', 'index.ts')}'`)
          .replaceAll("from 'braid'", `from '${path.join(root, 'src', 'index.ts')}'`),
      );
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        env: {
          ...process.env,
          BRAID_DB: path.join(dataDir, `example${i + 1}.db`),
          BRAID_DATABASE_URL: database?.url ?? '',
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      await database?.drop();
      expect(run.status, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      for (const expected of expectations(code)) {
        expect(
          lines.some((l) => l.startsWith(expected)),
          `a line starting with: ${expected}\n${run.stdout}`,
        ).toBe(true);
      }
    });
  });
});
