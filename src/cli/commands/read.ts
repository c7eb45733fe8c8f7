import { type Command, Option } from 'commander';
import { redactConnectionString } from '../../store/postgres/connectionString.js';
import { RUN_STATUSES, type RunStatus } from '../../store/types.js';
import {
  addClientOptions,
  type ClientOptions,
  databaseUrlOption,
  dbOption,
  jsonOption,
  parseLimit,
  parseStatuses,
  parseTime,
} from '../options.js';
import { printJson } from '../output.js';
import { colorsFor } from '../render/colors.js';
import { renderReport } from '../render/report.js';
import { shellWord } from '../render/shellWord.js';
import { runsTable } from '../render/tables.js';
import { openRunSource } from '../runSource/openRunSource.js';
import type { RunSource } from '../runSource/runReport.js';

interface ReadOptions extends ClientOptions {
  db: string;
  databaseUrl?: string;
  json?: boolean;
}

interface RunsOptions extends ReadOptions {
  workflow?: string;
  status?: RunStatus[];
  parent?: string;
  root?: string;
  since?: number;
  until?: number;
  limit: number;
  cursor?: string;
}

const SOURCE_HELP = `
Reads through the server at --url when one answers there, else the database directly: PostgreSQL
when BRAID_DATABASE_URL is set, else the SQLite file (--db). With --db or --database-url on the
command line, always that database; with --url or BRAID_URL, always the server.`;

/** `braid runs` and `braid show`: read-only views, with `--json` for scripts. */
export function registerReadCommands(program: Command): void {
  const runs = program
    .command('runs')
    .description('List runs, newest first')
    .option('--workflow <name>', 'only this workflow')
    .addOption(
      new Option('--status <status>', `only these statuses, comma-separated (${RUN_STATUSES.join(', ')})`).argParser(
        parseStatuses,
      ),
    )
    .option('--parent <runId>', 'only the children of this run')
    .option('--root <runId>', 'only the runs of this tree (a run and its descendants)')
    .addOption(new Option('--since <time>', 'created at or after (ISO 8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('--until <time>', 'created before (ISO 8601 or epoch ms)').argParser(parseTime))
    .addOption(new Option('-n, --limit <n>', 'how many, 1-1000').argParser(parseLimit).default(20))
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .addOption(jsonOption())
    .addOption(dbOption())
    .addOption(databaseUrlOption());
  addClientOptions(runs)
    .addHelpText('after', `${SOURCE_HELP}\nWith --json: {"runs": [...], "nextCursor": string | null}.`)
    .action(async (options: RunsOptions, command: Command) => {
      const page = await withSource(options, command, (source) =>
        source.listRuns({
          workflow: options.workflow,
          status: options.status,
          parentRunId: options.parent,
          rootRunId: options.root,
          since: options.since,
          until: options.until,
          limit: options.limit,
          cursor: options.cursor,
        }),
      );
      if (options.json) return printJson(page);
      const c = colorsFor(process.stdout);
      if (!page.runs.length) console.log(c.dim('No runs match.'));
      else console.log(runsTable(page.runs, c));
      if (page.nextCursor) console.log(c.dim(`More: ${nextPageCommand(options, command, page.nextCursor)}`));
    });

  const show = program
    .command('show')
    .description('Show one run: its steps, what it waits for, the children they spawned, its output or error')
    .argument('<runId>', 'the run')
    .addOption(jsonOption())
    .addOption(dbOption())
    .addOption(databaseUrlOption());
  addClientOptions(show)
    .addHelpText(
      'after',
      `${SOURCE_HELP}\nA run that waits lists what for (a time, an event, a person's input with the command that\n` +
        'answers it) and until when; settled waits follow, a line each.\n' +
        'With --json: {"run", "steps", "waits", "children": {"total", "counts", "byStep"}, "parent", "replayOf"}.',
    )
    .action(async (runId: string, options: ReadOptions, command: Command) => {
      const report = await withSource(options, command, (source) => source.getReport(runId));
      if (options.json) return printJson(report);
      console.log(renderReport(report, colorsFor(process.stdout)));
    });
}

/**
 * The command for the next page: this one's filters and source, then the cursor (a cursor alone
 * would page through every run). The token is left out: BRAID_TOKEN gives it again.
 */
function nextPageCommand(options: RunsOptions, command: Command, cursor: string): string {
  const words = ['braid', 'runs'];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) words.push(flag, shellWord(String(value)));
  };
  const isGiven = (name: string) => command.getOptionValueSource(name) === 'cli';
  add('--workflow', options.workflow);
  add('--status', options.status?.join(','));
  add('--parent', options.parent);
  add('--root', options.root);
  add('--since', options.since === undefined ? undefined : new Date(options.since).toISOString());
  add('--until', options.until === undefined ? undefined : new Date(options.until).toISOString());
  if (isGiven('limit')) add('--limit', options.limit);
  if (isGiven('url')) add('--url', options.url);
  if (isGiven('db')) add('--db', options.db);
  // Its password is hidden (the user puts it back); from BRAID_DATABASE_URL it needs nothing.
  if (isGiven('databaseUrl') && options.databaseUrl) add('--database-url', redactConnectionString(options.databaseUrl));
  add('--cursor', cursor);
  return words.join(' ');
}

async function withSource<T>(options: ReadOptions, command: Command, read: (source: RunSource) => Promise<T>) {
  const source = await openRunSource({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    db: options.db,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    isUrlChosen: command.getOptionValueSource('url') !== 'default',
    isDbChosen: command.getOptionValueSource('db') === 'cli',
    isDatabaseUrlChosen: command.getOptionValueSource('databaseUrl') === 'cli',
  });
  try {
    return await read(source);
  } finally {
    await source.close();
  }
}
