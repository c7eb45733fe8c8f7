import { type Command, Option } from 'commander';
import { ApiClient, type SentEventJson } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parseJson } from '../options.js';
import { printJson } from '../output.js';
import { plural } from '../render/format.js';

interface SendEventOptions extends ClientOptions {
  data?: unknown;
  key?: string;
  idempotencyKey?: string;
  json?: boolean;
}

interface InputOptions extends ClientOptions {
  data: unknown;
  json?: boolean;
}

/** `braid send-event` and `braid input`: what wakes a step that waits, sent through the server. */
export function registerWaitCommands(program: Command): void {
  const sendEvent = program
    .command('send-event')
    .description('Send an event: steps waiting for it go on, workflows it triggers start')
    .argument('<name>', 'the event name, e.g. order.paid')
    .addOption(new Option('-d, --data <json>', 'the payload, as JSON (default: null)').argParser(parseJson))
    .option('--key <key>', 'the event key: waiters that match on a key get only events sent with it')
    .option('--idempotency-key <key>', 'send it once: later sends with this key deliver nothing')
    .addOption(jsonOption());
  addClientOptions(sendEvent)
    .addHelpText(
      'after',
      `
The event is recorded in the inbox before the answer, so a step that waits for it later still gets
it. With --json: {"seq", "duplicate", "delivered", "started": [{"workflow", "runId"}]}.

Examples:
  $ braid send-event order.paid --key A1 --data '{"total": 42}'
  $ braid send-event invoice.settled --data '{"id": 7}' --idempotency-key stripe-evt-123 --json`,
    )
    .action(async (name: string, options: SendEventOptions) => {
      const client = new ApiClient(options.url, options.token);
      const sent = await client.sendEvent({
        name,
        ...(options.data === undefined ? {} : { payload: options.data }),
        ...(options.key === undefined ? {} : { key: options.key }),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      });
      if (options.json) printJson(sent);
      else console.log(describeSent(name, options.idempotencyKey, sent).join('\n'));
    });

  const input = program
    .command('input')
    .description("Give the value a run waits for (a step's ctx.waitForInput): the step goes on")
    .argument('<runId>', 'the run')
    .argument('<name>', 'the input it waits for (braid show <runId> lists them)')
    .addOption(
      new Option('-d, --data <json>', "the value, as JSON (checked against the input's schema)")
        .argParser(parseJson)
        .makeOptionMandatory(),
    )
    .addOption(jsonOption());
  addClientOptions(input)
    .addHelpText(
      'after',
      `
A value the input's schema refuses changes nothing: exit 5, with the issues. An input the run does
not wait for (a wrong name, or answered already) exits 1. With --json: {"runId", "name", "key"}.

Example:
  $ braid input 01JZ3K8Q7W approve --data '{"approved": true, "by": "ada"}'`,
    )
    .action(async (runId: string, name: string, options: InputOptions) => {
      const client = new ApiClient(options.url, options.token);
      const given = await client.provideInput(runId, name, options.data);
      if (options.json) printJson(given);
      else console.log(`Gave input ${name} to run ${runId}; its step goes on. Follow it: braid show ${runId}`);
    });
}

function describeSent(name: string, idempotencyKey: string | undefined, sent: SentEventJson): string[] {
  if (sent.duplicate) {
    return [
      `${name} with idempotency key ${JSON.stringify(idempotencyKey)} was sent before (seq ${sent.seq}): ` +
        'nothing was delivered again.',
    ];
  }
  const lines = [
    sent.delivered > 0
      ? `Sent ${name} (seq ${sent.seq}): ${plural(sent.delivered, 'waiting step')} resolved.`
      : `Sent ${name} (seq ${sent.seq}): no step waits for it now; a step that waits for it later gets it from the inbox.`,
  ];
  for (const run of sent.started)
    lines.push(`Started ${run.workflow} ${run.runId}. Follow it: braid show ${run.runId}`);
  return lines;
}
