import type { ApiClient } from './apiClient.js';
import { ExitCode } from './exitCodes.js';
import { followRun } from './followRun.js';
import { printJson } from './output.js';
import { colorsFor } from './render/colors.js';
import { renderOutcome } from './render/report.js';

/**
 * `--wait`: follows the run to its end, with the live display on a terminal and nothing on a pipe
 * or with --json; then prints the result (the `show --json` document with --json). Returns 0 when
 * the run succeeded, 1 when it failed, was cancelled or timed out.
 */
export async function waitForRun(client: ApiClient, runId: string, options: { json?: boolean }): Promise<ExitCode> {
  const c = colorsFor(process.stdout);
  // log-update loads only for a terminal: it is a tenth of a second of startup.
  const isLive = !options.json && process.stdout.isTTY;
  const live = isLive ? new (await import('./render/liveProgress.js')).LiveProgress(process.stdout, c) : undefined;
  const onInterrupt = () => {
    live?.finish();
    console.error(`Stopped following ${runId}; the run goes on. See it with: braid show ${runId}`);
    process.exit(ExitCode.interrupted);
  };
  process.once('SIGINT', onInterrupt);
  let report: Awaited<ReturnType<typeof followRun>>;
  try {
    report = await followRun(client, runId, (r) => live?.update(r));
  } finally {
    process.off('SIGINT', onInterrupt);
    live?.finish();
  }
  if (options.json) printJson(report);
  else {
    console.log(live ? '' : `${report.run.workflow} ${report.run.id}`);
    console.log(renderOutcome(report, c).join('\n'));
  }
  return report.run.status === 'succeeded' ? ExitCode.ok : ExitCode.failed;
}
