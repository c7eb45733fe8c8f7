/** `braid show` for people, and the closing summary of `braid run --wait`. */
import type { RunReport } from '../runSource/runReport.js';
import type { Colors } from './colors.js';
import {
  formatDuration,
  formatJson,
  formatTime,
  paintStatus,
  runElapsed,
  statusSymbol,
  summarizeCounts,
} from './format.js';
import { stepsTable } from './tables.js';
import { renderWaits } from './waits.js';

export function renderReport(report: RunReport, c: Colors, now = Date.now()): string {
  const { run } = report;
  const lines = [
    `${c.bold(run.workflow)} ${run.id}  ${statusSymbol(run.status, c)} ${paintStatus(run.status, c)}  ` +
      formatDuration(runElapsed(run, now)),
    c.dim(
      `created ${formatTime(run.createdAt)} · started ${formatTime(run.startedAt)} · ` +
        `finished ${formatTime(run.finishedAt)} · version ${run.version}`,
    ),
  ];
  if (report.parent) {
    const step = report.parent.step === null ? '' : ` (step ${report.parent.step})`;
    lines.push(`spawned by ${report.parent.runId}${step}: braid show ${report.parent.runId}`);
  }
  if (report.replayOf) lines.push(`replay of ${report.replayOf}`);
  if (run.idempotencyKey) lines.push(`idempotency key ${run.idempotencyKey}`);
  lines.push('');
  lines.push(report.steps.length ? stepsTable(report, c, now) : c.dim('(no steps stored yet)'));
  lines.push(...renderWaits(run.id, report.waits, c, now));
  if (report.children.total > 0) {
    lines.push('', `children: ${summarizeCounts(report.children.total, report.children.counts, c)}`);
    lines.push(c.dim(`  list them: braid runs --parent ${run.id}`));
  }
  lines.push('', ...renderOutcome(report, c, now));
  return lines.join('\n');
}

/** The result of a run: its output when it succeeded, its error otherwise. */
export function renderOutcome(report: RunReport, c: Colors, now = Date.now()): string[] {
  const { run } = report;
  const took = formatDuration(runElapsed(run, now));
  if (run.status === 'succeeded') {
    return [`${statusSymbol('succeeded', c)} ${c.green('succeeded')} in ${took}`, 'output:', formatJson(run.output)];
  }
  const head = `${statusSymbol(run.status, c)} ${paintStatus(run.status, c)}`;
  if (run.error) {
    const failedSteps = report.steps.filter((s) => s.status === 'failed').map((s) => s.name);
    const where = failedSteps.length ? ` (failed: ${failedSteps.join(', ')})` : '';
    return [`${head} after ${took}${where}`, `error: ${run.error.name}: ${run.error.message}`];
  }
  return [`${head} (${took} so far)`];
}
