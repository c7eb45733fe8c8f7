import { Argument, type Command } from 'commander';
import type { LimitsJson } from '../../server/schemas.js';
import { ApiClient } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parsePositiveInt } from '../options.js';
import { printJson } from '../output.js';

interface JsonOptions extends ClientOptions {
  json?: boolean;
}

/** What `set` and `reset` change: a workflow's maxRuns, or a pool's size (the API path segment). */
const KINDS = { 'max-runs': 'max-runs', pool: 'pools' } as const;
type Kind = keyof typeof KINDS;

const settingNote = (setting: { value: number } | null, defined: number) =>
  setting ? `  (set at run time; defined ${defined})` : '';

function describe(limits: LimitsJson): string {
  const lines: string[] = [];
  for (const w of limits.maxRuns) {
    lines.push(`max-runs ${w.workflow}  ${w.maxRuns} per key${settingNote(w.setting, w.defined)}`);
    for (const k of w.keys)
      lines.push(`  key ${JSON.stringify(k.key)}  active ${k.active}/${w.maxRuns}  queued ${k.queued}`);
  }
  for (const p of limits.pools) {
    lines.push(`pool ${p.pool}  busy ${p.busy}/${p.size}  waiting ${p.waiting}${settingNote(p.setting, p.defined)}`);
  }
  return lines.length ? lines.join('\n') : 'No workflow with maxRuns and no pool.';
}

const kindArgument = () => new Argument('<kind>', 'what to change').choices(Object.keys(KINDS));

/** `braid limits [list]|set|reset`: maxRuns and pool sizes, changed at run time through the server. */
export function registerLimitCommands(program: Command): void {
  const limits = program
    .command('limits')
    .description("Show and change workflows' maxRuns and pool sizes at run time (through the server)");

  addClientOptions(
    limits
      .command('list', { isDefault: true })
      .description('Every maxRuns and pool, with its usage')
      .addOption(jsonOption()),
  ).action(async (options: JsonOptions) => {
    const all = await new ApiClient(options.url, options.token).listLimits();
    if (options.json) printJson(all);
    else console.log(describe(all));
  });

  addClientOptions(
    limits
      .command('set')
      .description("Change a workflow's maxRuns (per concurrency key) or a pool's size, for every worker")
      .addArgument(kindArgument())
      .argument('<name>', 'the workflow (max-runs) or the pool (pool)')
      .argument('<value>', 'a whole number >= 1', parsePositiveInt)
      .addOption(jsonOption()),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ braid limits set max-runs send-invoice 10
  $ braid limits set pool llm 4`,
    )
    .action(async (kind: Kind, name: string, value: number, options: JsonOptions) => {
      const view = await new ApiClient(options.url, options.token).setLimit(KINDS[kind], name, value);
      if (options.json) printJson(view);
      else console.log(`Set ${kind === 'pool' ? `pool ${name} to size` : `maxRuns of ${name} to`} ${value}.`);
    });

  addClientOptions(
    limits
      .command('reset')
      .description('Drop a run-time setting: the value in code applies again')
      .addArgument(kindArgument())
      .argument('<name>', 'the workflow (max-runs) or the pool (pool)')
      .addOption(jsonOption()),
  ).action(async (kind: Kind, name: string, options: JsonOptions) => {
    await new ApiClient(options.url, options.token).resetLimit(KINDS[kind], name);
    if (options.json) printJson({ reset: { kind, name } });
    else console.log(`Reset ${kind === 'pool' ? `pool ${name}` : `maxRuns of ${name}`} to its value in code.`);
  });
}
