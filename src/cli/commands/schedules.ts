import { type Command, Option } from 'commander';
import type { ScheduleJson } from '../../server/schemas.js';
import { ApiClient } from '../apiClient.js';
import { addClientOptions, type ClientOptions, jsonOption, parseJson } from '../options.js';
import { printJson } from '../output.js';

interface JsonOptions extends ClientOptions {
  json?: boolean;
}

interface CreateOptions extends JsonOptions {
  workflow: string;
  cron: string;
  id?: string;
  timezone?: string;
  data?: unknown;
  overlap?: string;
  catchupWindow?: string;
  jitter?: string;
  paused?: boolean;
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function describe(s: ScheduleJson): string {
  return (
    `${s.id}  ${s.workflow}  "${s.cron}" ${s.timezone}  ${s.paused ? 'paused' : `next ${iso(s.nextFireAt)}`}` +
    `  overlap ${s.overlap}  last run ${s.lastRunId ?? '-'}`
  );
}

/** `braid schedules list|create|pause|resume|trigger|delete|backfill`, through the server. */
export function registerScheduleCommands(program: Command): void {
  const schedules = program.command('schedules').description('List and steer cron schedules (through the server)');

  addClientOptions(schedules.command('list').description('Every schedule, its next fire time and last run'))
    .addOption(jsonOption())
    .action(async (options: JsonOptions) => {
      const { schedules: all } = await new ApiClient(options.url, options.token).listSchedules();
      if (options.json) printJson(all);
      else console.log(all.length ? all.map(describe).join('\n') : 'No schedules.');
    });

  addClientOptions(
    schedules
      .command('create')
      .description('Create a schedule of a workflow the server has registered')
      .requiredOption('-w, --workflow <name>', 'the workflow to run')
      .requiredOption('-c, --cron <expression>', 'cron: 5 fields, or 6 with seconds first ("0 9 * * 1-5")')
      .option('--id <id>', "the schedule's id (default: the workflow's name)")
      .option('--timezone <zone>', 'IANA time zone the cron is read in (default UTC)')
      .addOption(new Option('-d, --data <json>', 'the input of every run, as JSON').argParser(parseJson))
      .addOption(
        new Option('--overlap <policy>', 'when the previous run still runs').choices([
          'skip',
          'buffer_one',
          'buffer_all',
          'cancel_other',
          'allow_all',
        ]),
      )
      .option('--catchup-window <duration>', 'missed ticks younger than this still run after downtime (e.g. 10m)')
      .option('--jitter <duration>', 'delay each tick by a stable amount up to this (e.g. 30s)')
      .option('--paused', 'create it paused')
      .addOption(jsonOption()),
  )
    .addHelpText(
      'after',
      `
Example:
  $ braid schedules create --workflow nightly-report --cron "0 2 * * *" --timezone Europe/Berlin --data '{"team":"core"}'`,
    )
    .action(async (options: CreateOptions) => {
      const body: Record<string, unknown> = { workflow: options.workflow, cron: options.cron };
      if (options.id !== undefined) body.id = options.id;
      if (options.timezone !== undefined) body.timezone = options.timezone;
      if (options.data !== undefined) body.input = options.data;
      if (options.overlap !== undefined) body.overlap = options.overlap;
      if (options.catchupWindow !== undefined) body.catchupWindow = options.catchupWindow;
      if (options.jitter !== undefined) body.jitter = options.jitter;
      if (options.paused) body.paused = true;
      const created = await new ApiClient(options.url, options.token).createSchedule(body);
      if (options.json) printJson(created);
      else console.log(`Created schedule ${describe(created)}`);
    });

  for (const action of ['pause', 'resume'] as const) {
    addClientOptions(
      schedules
        .command(action)
        .description(action === 'pause' ? 'Stop a schedule ticking' : 'Let a paused schedule tick again')
        .argument('<id>', 'the schedule')
        .addOption(jsonOption()),
    ).action(async (id: string, options: JsonOptions) => {
      const s = await new ApiClient(options.url, options.token).scheduleAction(id, action);
      if (options.json) printJson(s);
      else console.log(`${action === 'pause' ? 'Paused' : 'Resumed'} schedule ${describe(s)}`);
    });
  }

  addClientOptions(
    schedules
      .command('trigger')
      .description('Start a run of the schedule now')
      .argument('<id>', 'the schedule')
      .addOption(jsonOption()),
  ).action(async (id: string, options: JsonOptions) => {
    const { runId } = await new ApiClient(options.url, options.token).triggerSchedule(id);
    if (options.json) printJson({ runId });
    else console.log(`Started run ${runId} of schedule ${id}. Follow it: braid show ${runId}`);
  });

  addClientOptions(
    schedules
      .command('backfill')
      .description('Start a run for every scheduled time in [from, to] not run yet')
      .argument('<id>', 'the schedule')
      .requiredOption('--from <time>', 'ISO time, e.g. 2026-01-01T00:00:00Z')
      .requiredOption('--to <time>', 'ISO time')
      .addOption(jsonOption()),
  ).action(async (id: string, options: JsonOptions & { from: string; to: string }) => {
    const { runIds } = await new ApiClient(options.url, options.token).backfillSchedule(id, options.from, options.to);
    if (options.json) printJson({ runIds });
    else console.log(runIds.length ? `Started ${runIds.length} run(s): ${runIds.join(' ')}` : 'Nothing to backfill.');
  });

  addClientOptions(
    schedules
      .command('delete')
      .description('Delete a schedule and its tick records (its runs stay)')
      .argument('<id>', 'the schedule')
      .addOption(jsonOption()),
  ).action(async (id: string, options: JsonOptions) => {
    await new ApiClient(options.url, options.token).deleteSchedule(id);
    if (options.json) printJson({ deleted: id });
    else console.log(`Deleted schedule ${id}.`);
  });
}
