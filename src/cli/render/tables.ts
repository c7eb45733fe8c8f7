/** The tables of `braid runs` and `braid show`, through cli-table3, without borders. */
import Table from 'cli-table3';
import type { PendingDebounceJson, RunJson } from '../../server/schemas.js';
import type { RunReport } from '../runSource/runReport.js';
import type { Colors } from './colors.js';
import {
  elapsed,
  formatDuration,
  formatTime,
  paintStatus,
  runElapsed,
  statusSymbol,
  summarizeCounts,
} from './format.js';

/** Column gaps only, like `ps` or `kubectl get`: easy to read, and easy to cut with awk. */
const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

function table(head: string[], c: Colors): Table.Table {
  return new Table({
    head: head.map((h) => c.bold(h)),
    chars: PLAIN_CHARS,
    // cli-table3 colours the head red by default; colours are ours to choose (and only on a TTY).
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
}

export function runsTable(runs: readonly RunJson[], c: Colors, now = Date.now()): string {
  const t = table(['RUN', 'WORKFLOW', 'STATUS', 'CREATED', 'DURATION', 'PARENT'], c);
  for (const r of runs) {
    t.push([
      r.id,
      r.workflow,
      `${statusSymbol(r.status, c)} ${paintStatus(r.status, c)}`,
      formatTime(r.createdAt),
      formatDuration(runElapsed(r, now)),
      r.parentRunId ?? '',
    ]);
  }
  return withoutTrailingSpace(t.toString());
}

export function stepsTable(report: RunReport, c: Colors, now = Date.now()): string {
  const t = table(['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'CACHE', 'FALLBACK', 'CHILDREN'], c);
  for (const s of report.steps) {
    const children = report.children.byStep[s.name];
    t.push([
      s.name,
      `${statusSymbol(s.status, c)} ${paintStatus(s.status, c)}`,
      String(s.attempts),
      formatDuration(elapsed(s.startedAt, s.finishedAt, now)),
      s.cacheHit ? c.cyan('hit') : '',
      s.fallbackUsed ? c.yellow('used') : '',
      children ? summarizeCounts(children.total, children.counts, c) : '',
    ]);
  }
  return withoutTrailingSpace(t.toString());
}

/** `braid debounces`: one row per pending debounced trigger (workflow, key), soonest due first. */
export function debouncesTable(debounces: readonly PendingDebounceJson[], c: Colors): string {
  const t = table(['WORKFLOW', 'KEY', 'RUN', 'TRIGGERS', 'FIRST', 'LAST', 'DUE', 'MAX WAIT'], c);
  for (const d of debounces) {
    t.push([
      d.workflow,
      d.key === '' ? c.dim('(all)') : d.key,
      d.runId,
      d.triggers > 1 ? `${d.triggers} (${d.triggers - 1} superseded)` : String(d.triggers),
      formatTime(d.firstAt),
      formatTime(d.lastAt),
      formatTime(d.dueAt),
      d.maxWaitAt === null ? c.dim('none') : formatTime(d.maxWaitAt),
    ]);
  }
  return withoutTrailingSpace(t.toString());
}

/** cli-table3 pads the last column too; trailing blanks only get in the way of `awk` and diffs. */
function withoutTrailingSpace(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
