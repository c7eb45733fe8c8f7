/** What `braid` does before any server or database is involved: help, usage errors, no server. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { braid, closedPort, FIXTURE, isListening, parseJson, tempDb, tempDir } from './harness.js';

const COMMANDS = [
  'dev',
  'worker',
  'run',
  'runs',
  'show',
  'cancel',
  'pause',
  'resume',
  'replay',
  'fork',
  'send-event',
  'input',
  'migrate',
];

describe('braid --help', () => {
  it('works for the program and every command, with exit code 0', async () => {
    const results = await Promise.all([[], ...COMMANDS.map((c) => [c])].map((args) => braid([...args, '--help'])));
    results.forEach((result, i) => {
      const command = i === 0 ? '' : ` ${COMMANDS[i - 1]}`;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`Usage: braid${command} `);
    });
    expect(results[0]!.stdout).toContain('Exit codes:');
    for (const command of COMMANDS) expect(results[0]!.stdout).toContain(command);
  });

  it('`braid help <command>` is the same help', async () => {
    const result = await braid(['help', 'run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: braid run [options] <workflow>');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const result = await braid(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });
});

describe('usage errors exit 2', () => {
  it('no command, an unknown command, an unknown option, a missing argument', async () => {
    const results = await Promise.all([
      braid([]),
      braid(['frobnicate']),
      braid(['runs', '--frob']),
      braid(['show']),
      braid(['runs', '--status', 'exploded']),
      braid(['dev', '--port', 'seventy']),
    ]);
    for (const result of results) expect(result.code, result.stderr).toBe(2);
    expect(results[3]!.stderr).toContain("missing required argument 'runId'");
    expect(results[4]!.stderr).toContain('unknown status "exploded"');
  });

  it('bad JSON in --input is refused before any server is asked', async () => {
    const port = await closedPort();
    const result = await braid(['run', 'greet', '--input', '{name: ada}', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not JSON');
  });

  it('with --json, a usage error is JSON on stdout too: {"error": {code, message}}, exit 2', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const cases: Array<{ args: string[]; code: string; says: string }> = [
      {
        args: ['run', 'greet', '--input', '{name: ada}', '--json', '--url', url],
        code: 'invalid_argument',
        says: 'not JSON',
      },
      {
        args: ['run', 'greet', '--json', '--input', '{name: ada}', '--url', url],
        code: 'invalid_argument',
        says: 'not JSON',
      },
      { args: ['runs', '--frob', '--json'], code: 'unknown_option', says: "unknown option '--frob'" },
      { args: ['show', '--json'], code: 'missing_argument', says: "missing required argument 'runId'" },
      { args: ['runs', '--json', '--status', 'exploded'], code: 'invalid_argument', says: 'unknown status "exploded"' },
      { args: ['runs', '--json', '--limit'], code: 'missing_option_value', says: "'-n, --limit <n>' argument missing" },
      { args: ['cancel', 'a', 'b', '--json'], code: 'too_many_arguments', says: 'too many arguments' },
      { args: ['frobnicate', '--json'], code: 'unknown_command', says: "unknown command 'frobnicate'" },
      // JSON.parse reads 1e999 as Infinity, which was then sent as null.
      {
        args: ['run', 'greet', '--input', '{"n": 1e999}', '--json', '--url', url],
        code: 'invalid_argument',
        says: '"n" is a number too large for JSON',
      },
      {
        args: ['send-event', '--json', '--url', url],
        code: 'missing_argument',
        says: "missing required argument 'name'",
      },
      {
        args: ['input', 'run-1', 'approve', '--json', '--url', url],
        code: 'missing_option',
        says: "required option '-d, --data <json>' not specified",
      },
      {
        args: ['input', 'run-1', 'approve', '--data', '{nope', '--json', '--url', url],
        code: 'invalid_argument',
        says: 'not JSON',
      },
    ];
    const results = await Promise.all(cases.map((c) => braid(c.args)));
    results.forEach((result, i) => {
      const { args, code, says } = cases[i]!;
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      const { error } = parseJson(result);
      expect(error, args.join(' ')).toEqual({ code, message: expect.stringContaining(says) });
      expect(error.message).not.toMatch(/^error: /);
      // People still read it on stderr, once.
      expect(result.stderr.split(says).length - 1, args.join(' ')).toBe(1);
    });

    const plain = await braid(['runs', '--frob']);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
  });

  it('dev without a file, where there is no examples/workflows.ts, says to pass one', async () => {
    const cwd = tempDir();
    const result = await braid(['dev', '--port', '0'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Pass the file(s) that export your workflows');
  });

  it('a workflow file that does not exist, or exports no workflow', async () => {
    const [missing, empty] = await Promise.all([
      braid(['worker', 'no/such/file.ts', '--db', tempDb()]),
      braid(['worker', path.join(path.dirname(FIXTURE), 'noWorkflows.ts'), '--db', tempDb()]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no/such/file.ts does not exist');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('exports no workflow');
  });
});

describe('no server running', () => {
  it('exits 3 and says to start `braid dev` or set BRAID_URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const results = await Promise.all([
      braid(['run', 'greet', '--input', '{"name":"ada"}', '--wait', '--url', url]),
      braid(['cancel', 'some-run', '--url', url]),
      braid(['show', 'some-run'], { env: { BRAID_URL: url } }),
      braid(['runs', '--json', '--url', url]),
      braid(['send-event', 'order.paid', '--url', url]),
      braid(['input', 'some-run', 'approve', '--data', 'true'], { env: { BRAID_URL: url } }),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toContain(`No Braid server answers at ${url}`);
      expect(result.stderr).toContain('braid dev');
      expect(result.stderr).toContain('BRAID_URL');
    }
    expect(parseJson(results[3]!).error.code).toBe('server_unreachable');
  });

  it('runs and show with neither a server nor a database file exit 3 too', async () => {
    const cwd = tempDir();
    const url = `http://127.0.0.1:${await closedPort()}`;
    // No --url: the default URL is probed, then the default file, which does not exist here.
    // (Unless someone runs a server on the default port on this machine: then that answers.)
    if (!(await isListening(7777))) {
      const result = await braid(['runs'], { cwd });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('there is no database at .braid/braid.db');
      expect(fs.existsSync(path.join(cwd, '.braid'))).toBe(false);
    }
    const explicit = await braid(['show', 'x', '--db', path.join(cwd, 'missing.db'), '--url', url]);
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain('There is no database at');
  });
});
