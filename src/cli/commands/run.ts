import { type Command, Option } from 'commander';
import { ApiClient } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parseJson, parsePriority } from '../options.js';
import { printJson } from '../output.js';
import { waitForRun } from '../waitForRun.js';

interface RunOptions extends ClientOptions {
  input: unknown;
  idempotencyKey?: string;
  priority?: number;
  wait?: boolean;
  json?: boolean;
}

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('Start a run of a workflow on the server; with --wait, follow it to the end')
    .argument('<workflow>', 'the workflow name')
    .addOption(
      new Option('-i, --input <json>', "the run's input, as JSON (checked against the workflow's schema)")
        .argParser(parseJson)
        .default({}, '{}'),
    )
    .option('--idempotency-key <key>', 'a run already started with this key is returned instead of a new one')
    .addOption(
      new Option(
        '--priority <n>',
        "who goes first for a slot: -100 to 100, higher first (default: the workflow's priority, else 0)",
      ).argParser(parsePriority),
    )
    .option('--wait', 'show the progress of the run and wait for it to end')
    .addOption(jsonOption());
  addClientOptions(command)
    .addHelpText(
      'after',
      `
Without --wait, prints the run id once the run is durable. With --wait, shows each step and the
children it spawned, live on a terminal (nothing but the result on a pipe or with --json), and
exits 0 if the run succeeded, 1 if it failed, was cancelled or timed out. Ctrl-C stops waiting
(exit 130), not the run.

Examples:
  $ braid run order --input '{"id": "A1", "items": [{"sku": "x", "qty": 2}]}' --wait
  $ braid run digest --input '{"urls": ["a", "b"]}' --idempotency-key digest-2026-01-31 --json
  $ braid run digest --input '{"urls": ["c"]}' --priority 10`,
    )
    .action(async (workflow: string, options: RunOptions) => {
      const client = new ApiClient(options.url, options.token);
      const started = await client.startRun(workflow, {
        input: options.input,
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
        ...(options.priority === undefined ? {} : { priority: options.priority }),
      });
      if (options.wait) {
        process.exitCode = await waitForRun(client, started.runId, options);
      } else if (options.json) {
        printJson({ runId: started.runId, workflow, created: started.created });
      } else {
        const how = started.created ? 'Started' : 'The idempotency key names the existing run';
        console.log(`${how} ${started.runId} (${workflow}). Follow it: braid show ${started.runId}`);
      }
    });
}
