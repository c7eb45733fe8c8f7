import { type Command, Option } from 'commander';
import { ApiClient } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parseJson } from '../options.js';
import { printJson } from '../output.js';
import { waitForRun } from '../waitForRun.js';

interface ForkOptions extends ClientOptions {
  from: string;
  input?: unknown;
  outputs?: unknown;
  workflowVersion?: string;
  wait?: boolean;
  json?: boolean;
}

/** `braid fork <runId> --from <step>`: a new run from a step of an ended run, through the server. */
export function registerFork(program: Command): void {
  const command = program
    .command('fork')
    .description('Start a new run from a step of an ended run: the steps before it keep their outputs')
    .argument('<runId>', 'the run to fork (it must have ended)')
    .requiredOption('--from <step>', 'the step to fork from: it and every step after it run again')
    .addOption(
      new Option('-i, --input <json>', "the new run's input, as JSON (the original's when left out)").argParser(
        parseJson,
      ),
    )
    .addOption(
      new Option('--outputs <json>', 'outputs to use instead of the original ones, as {"step": output}').argParser(
        parseJson,
      ),
    )
    .option('--workflow-version <version>', 'the workflow version the fork must run (the registered one)')
    .option('--wait', 'then follow the new run to its end, as `braid run --wait` does')
    .addOption(jsonOption());
  addClientOptions(command)
    .addHelpText(
      'after',
      `
The fork is a new run of the same workflow: steps that are not downstream of --from reuse the
original's outputs (shown as reused, never run again), --from and everything after it run. It
exits 4 for an unknown run; 5 when the server refuses what was asked (the workflow's schema refuses
--input, no step named --from, --outputs for an unknown step or one that runs again); 1 when the
run has not ended yet (wait for it, or cancel it) or the workflow version differs.

Examples:
  $ braid fork 01J9Z8K3 --from summarise --input '{"url": "https://example.com", "words": 50}' --wait
  $ braid fork 01J9Z8K3 --from publish --outputs '{"summarise": "A shorter summary."}' --json`,
    )
    .action(async (runId: string, options: ForkOptions) => {
      const client = new ApiClient(options.url, options.token);
      const result = await client.fork(runId, {
        from: options.from,
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.outputs === undefined ? {} : { outputs: options.outputs as Record<string, unknown> }),
        ...(options.workflowVersion === undefined ? {} : { version: options.workflowVersion }),
      });
      if (options.wait) {
        process.exitCode = await waitForRun(client, result.runId, options);
      } else if (options.json) {
        printJson(result);
      } else {
        console.log(
          `Forked ${runId} from step "${options.from}" as ${result.runId}. Follow it: braid show ${result.runId}`,
        );
      }
    });
}
