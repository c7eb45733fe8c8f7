import type { Command } from 'commander';
import { ApiClient, type RunAction } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption } from '../options.js';
import { printJson } from '../output.js';
import { waitForRun } from '../waitForRun.js';

interface SteerOptions extends ClientOptions {
  json?: boolean;
  reason?: string;
  wait?: boolean;
}

const ACTIONS: Record<RunAction, { description: string; done: string; canWait: boolean }> = {
  cancel: {
    description: 'Cancel a run: running steps are aborted, its children cancelled',
    done: 'Cancelled',
    canWait: false,
  },
  pause: {
    description: 'Pause a run: no new steps start (running ones finish and are recorded)',
    done: 'Paused',
    canWait: false,
  },
  resume: { description: 'Resume a paused run', done: 'Resumed', canWait: true },
};

/** `braid cancel|pause|resume|replay <runId>`: steer a run through the server. */
export function registerSteerCommands(program: Command): void {
  for (const [action, spec] of Object.entries(ACTIONS) as Array<[RunAction, (typeof ACTIONS)[RunAction]]>) {
    const command = program
      .command(action)
      .description(spec.description)
      .argument('<runId>', 'the run')
      .addOption(jsonOption());
    if (action === 'cancel') command.option('--reason <text>', 'why, recorded in the run error');
    if (spec.canWait) command.option('--wait', 'then follow the run to its end, as `braid run --wait` does');
    addClientOptions(command).action(async (runId: string, options: SteerOptions) => {
      const client = new ApiClient(options.url, options.token);
      const result = await client.act(
        runId,
        action,
        options.reason === undefined ? undefined : { reason: options.reason },
      );
      if (options.wait) {
        process.exitCode = await waitForRun(client, runId, options);
      } else if (options.json) {
        printJson(result);
      } else {
        console.log(`${spec.done} ${result.runId}: now ${result.status}.`);
      }
    });
  }

  const replay = program
    .command('replay')
    .description('Start a new run of the same workflow with the same input')
    .argument('<runId>', 'the run to replay')
    .option('--wait', 'then follow the new run to its end, as `braid run --wait` does')
    .addOption(jsonOption());
  addClientOptions(replay).action(async (runId: string, options: SteerOptions) => {
    const client = new ApiClient(options.url, options.token);
    const result = await client.replay(runId);
    if (options.wait) {
      process.exitCode = await waitForRun(client, result.runId, options);
    } else if (options.json) {
      printJson(result);
    } else {
      console.log(`Replaying ${runId} as ${result.runId}. Follow it: braid show ${result.runId}`);
    }
  });
}
