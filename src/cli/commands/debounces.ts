import { type Command, Option } from 'commander';
import { ApiClient } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parseLimit } from '../options.js';
import { printJson } from '../output.js';
import { colorsFor } from '../render/colors.js';
import { debouncesTable } from '../render/tables.js';

interface DebouncesOptions extends ClientOptions {
  workflow?: string;
  limit: number;
  json?: boolean;
}

/** `braid debounces`: the debounced triggers still pending, through the server. */
export function registerDebounces(program: Command): void {
  const command = program
    .command('debounces')
    .description('List pending debounced triggers: one run per workflow and key, soonest due first')
    .option('-w, --workflow <name>', "only this workflow's")
    .addOption(new Option('-n, --limit <n>', 'how many, 1-1000').argParser(parseLimit).default(100))
    .addOption(jsonOption());
  addClientOptions(command)
    .addHelpText(
      'after',
      `
Each row is a run of a workflow with \`debounce\` that has not started: it carries the last trigger's
input and starts at DUE unless another trigger of its key comes first, and at MAX WAIT at the latest.
With --json: the array of {"workflow", "key", "runId", "input", "triggers", "firstAt", "lastAt",
"dueAt", "windowMs", "maxWaitAt"} (epoch ms).

Example:
  $ braid debounces --workflow save-profile`,
    )
    .action(async (options: DebouncesOptions) => {
      const client = new ApiClient(options.url, options.token);
      const debounces = await client.listDebounces({
        ...(options.workflow === undefined ? {} : { workflow: options.workflow }),
        limit: options.limit,
      });
      if (options.json) printJson(debounces);
      else
        console.log(debounces.length ? debouncesTable(debounces, colorsFor(process.stdout)) : 'No pending debounces.');
    });
}
