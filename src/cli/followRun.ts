/**
 * Follows a run until it ends. The run's event stream (`GET /api/events?runId=`, the run and its
 * descendants) only says *when* something changed; each refresh then reads the run from
 * `GET /api/runs/:id`, which is the truth. So the stream's framing is never parsed here: a line
 * that starts with `event:`, `data:` or `id:` is news, a comment (the heartbeat) is not.
 * Refreshes are at most 10 a second whatever the event rate, and at least one a second should the
 * stream drop.
 */
import { isTerminalRun } from '../store/types.js';
import type { ApiClient } from './apiClient.js';
import { ApiRunSource } from './runSource/apiRunSource.js';
import type { RunReport } from './runSource/runReport.js';

const MIN_REFRESH_MS = 100;
const MAX_REFRESH_MS = 1000;
/** A proxy that buffers the stream would hold back its first line: do not wait for it longer. */
const CONNECT_TIMEOUT_MS = 2000;

export async function followRun(
  client: ApiClient,
  runId: string,
  onReport: (report: RunReport) => void = () => {},
): Promise<RunReport> {
  const source = new ApiRunSource(client);
  const stop = new AbortController();
  let hasNews = false;
  let wake: (() => void) | undefined;
  await listen(client, runId, stop.signal, () => {
    hasNews = true;
    wake?.();
  });
  let report: RunReport | undefined;
  try {
    for (;;) {
      const startedAt = Date.now();
      hasNews = false;
      report = await source.getReport(runId, report);
      onReport(report);
      if (isTerminalRun(report.run.status)) return report;
      await sleep(MIN_REFRESH_MS - (Date.now() - startedAt));
      if (!hasNews) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, MAX_REFRESH_MS);
        });
        wake = undefined;
      }
    }
  } finally {
    stop.abort();
  }
}

/**
 * Opens the stream and returns once the server has sent its first line, which it does after it
 * started listening: an event committed from then on reaches us. Should the stream fail, the
 * periodic refresh still sees the run end.
 */
async function listen(client: ApiClient, runId: string, signal: AbortSignal, onNews: () => void): Promise<void> {
  let reader: ReadableStreamDefaultReader<string>;
  try {
    reader = (await client.openEvents(runId, signal)).getReader();
    const first = await Promise.race([reader.read(), sleep(CONNECT_TIMEOUT_MS)]);
    if (first?.done) return;
  } catch {
    return;
  }
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (/^(event|data|id):/m.test(value)) onNews();
    }
  })().catch(() => {}); // aborted when the run ends, or the server went away: the refresh loop decides
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
