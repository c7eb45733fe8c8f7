/**
 * The live view of `braid run --wait`: a header, one line per step (status symbol, name,
 * attempts, duration) and, under each step that spawned children, a children summary line.
 * A pure function of the run's report and the clock, so it is tested without a terminal.
 */

import type { StepJson, WaitJson } from '../../server/schemas.js';
import { isTerminalStep, type StatusCounts } from '../../store/types.js';
import type { RunReport } from '../runSource/runReport.js';
import type { Colors } from './colors.js';
import {
  elapsed,
  formatDuration,
  oneLine,
  paintStatus,
  plural,
  runElapsed,
  statusSymbol,
  summarizeCounts,
} from './format.js';
import { formatStepProgress } from './stepProgress.js';
import { answerCommand, waitingSummary } from './waits.js';

export interface ProgressOptions {
  colors: Colors;
  now: number;
  /** Animation frame of the running steps' spinner. */
  tick: number;
  /** Terminal rows available: past this, finished steps are folded into one line. */
  maxLines?: number;
  /** Terminal width: error messages are cut to fit. */
  width?: number;
}

interface Block {
  step: StepJson;
  lines: string[];
}

export function renderProgress(report: RunReport, options: ProgressOptions): string {
  const { colors: c, now } = options;
  const { run } = report;
  const header =
    `${c.bold(run.workflow)} ${c.dim(run.id)}  ${statusSymbol(run.status, c, options.tick)} ` +
    `${paintStatus(run.status, c)}  ${formatDuration(runElapsed(run, now))}`;
  const nameWidth = Math.max(0, ...report.steps.map((s) => s.name.length));
  const blocks = report.steps.map((step) => {
    const pending = step.status === 'waiting' ? pendingWaitsOf(report.waits, step.name) : [];
    return {
      step,
      lines: [
        stepLine(step, pending, nameWidth, options, report.progress?.[step.name]?.value),
        ...answerLines(run.id, pending, c),
        ...childrenLine(report.children.byStep[step.name], c),
      ],
    };
  });
  return [header, ...fitBlocks(blocks, (options.maxLines ?? Number.POSITIVE_INFINITY) - 1, c)].join('\n');
}

function pendingWaitsOf(waits: readonly WaitJson[], step: string): WaitJson[] {
  return waits.filter((w) => w.step === step && w.status === 'pending');
}

/** Under a step that waits for a person: how to answer, so nobody has to look it up. */
function answerLines(runId: string, pending: readonly WaitJson[], c: Colors): string[] {
  return pending.filter((w) => w.kind === 'input').map((w) => `      ${c.dim(`answer: ${answerCommand(runId, w)}`)}`);
}

function stepLine(
  step: StepJson,
  pending: readonly WaitJson[],
  nameWidth: number,
  options: ProgressOptions,
  progress: unknown,
): string {
  const { colors: c, now, tick } = options;
  const isRetrying = step.status === 'queued' && step.nextAttemptAt !== null;
  const symbol = isRetrying ? c.yellow('↻') : statusSymbol(step.status, c, tick);
  const name = step.status === 'pending' || step.status === 'skipped' ? c.dim(step.name) : step.name;
  const parts = [`  ${symbol} ${name.padEnd(nameWidth + (name.length - step.name.length))}`];
  parts.push((step.attempts > 0 ? plural(step.attempts, 'attempt') : '').padEnd(10));
  if (isRetrying) parts.push(c.yellow(`retry in ${formatDuration(step.nextAttemptAt! - now)}`));
  else if (step.status === 'waiting') parts.push(c.magenta(waitingSummary(pending, now)));
  else if (step.startedAt !== null) parts.push(formatDuration(elapsed(step.startedAt, step.finishedAt, now)));
  else if (step.status === 'skipped') parts.push(c.dim('skipped'));
  if (step.cacheHit) parts.push(c.cyan('cached'));
  if (step.fallbackUsed) parts.push(c.yellow('fallback'));
  // What the step reports of itself (ctx.progress), while it is at work.
  if (progress !== undefined && (step.status === 'running' || step.status === 'waiting')) {
    parts.push(c.cyan(formatStepProgress(progress)));
  }
  let line = parts.join('  ').trimEnd();
  if (step.error && (isRetrying || step.status === 'failed')) {
    line += c.dim(`  ${oneLine(step.error.message, Math.max(20, (options.width ?? 120) - line.length - 4))}`);
  }
  return line;
}

function childrenLine(children: { total: number; counts: StatusCounts } | undefined, c: Colors): string[] {
  if (!children) return [];
  return [`      ${c.dim('children')} ${summarizeCounts(children.total, children.counts, c)}`];
}

/**
 * Keeps the view within `budget` lines: a frame taller than the terminal cannot be redrawn in
 * place. Finished steps without children are folded into one line first, then the rest is cut.
 */
function fitBlocks(blocks: Block[], budget: number, c: Colors): string[] {
  const all = blocks.flatMap((b) => b.lines);
  if (all.length <= budget) return all;
  const isQuiet = (b: Block) => isTerminalStep(b.step.status) && b.lines.length === 1 && b.step.status !== 'failed';
  const folded = blocks.filter(isQuiet).length;
  const shown = blocks.filter((b) => !isQuiet(b)).flatMap((b) => b.lines);
  const foldLine = folded ? [c.dim(`  … ${plural(folded, 'finished step')} not shown`)] : [];
  const room = Math.max(1, budget - foldLine.length);
  if (shown.length <= room) return [...foldLine, ...shown];
  return [...foldLine, ...shown.slice(0, room - 1), c.dim(`  … ${shown.length - room + 1} more lines`)];
}
