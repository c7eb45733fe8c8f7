/** How times, durations, statuses and counts read in every human-facing view. */
import type { RunJson } from '../../server/schemas.js';
import { RUN_STATUSES, type RunStatus, type StatusCounts, type StepStatus } from '../../store/types.js';
import type { Colors } from './colors.js';

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Local time, `2026-01-31 12:00:05`: what a reader compares with their clock. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** Elapsed time of something that started and may not have finished. */
export function elapsed(startedAt: number | null, finishedAt: number | null, now: number): number | null {
  if (startedAt === null) return null;
  return (finishedAt ?? now) - startedAt;
}

/** A run's elapsed time: to its end, or to its pause while it is paused (it does not grow then). */
export function runElapsed(run: Pick<RunJson, 'startedAt' | 'finishedAt' | 'pausedAt'>, now: number): number | null {
  return elapsed(run.startedAt, run.finishedAt ?? run.pausedAt, now);
}

type Paint = (text: string) => string;

function paintFor(status: RunStatus | StepStatus, c: Colors): Paint {
  switch (status) {
    case 'succeeded':
      return c.green;
    case 'failed':
    case 'timed_out':
      return c.red;
    case 'cancelled':
    case 'paused':
      return c.yellow;
    case 'running':
      return c.cyan;
    case 'waiting':
      return c.magenta;
    default:
      return c.dim;
  }
}

export function paintStatus(status: RunStatus | StepStatus, c: Colors): string {
  return paintFor(status, c)(status);
}

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

const SYMBOLS: Record<RunStatus | StepStatus, string> = {
  pending: '○',
  queued: '◌',
  running: '●',
  waiting: '◷',
  paused: '‖',
  succeeded: '✔',
  failed: '✖',
  timed_out: '✖',
  skipped: '↷',
  cancelled: '⊘',
};

/** A status symbol; `running` spins when given the frame number. */
export function statusSymbol(status: RunStatus | StepStatus, c: Colors, tick?: number): string {
  const symbol =
    status === 'running' && tick !== undefined ? SPINNER_FRAMES[tick % SPINNER_FRAMES.length]! : SYMBOLS[status];
  return paintFor(status, c)(symbol);
}

/** `18/25 succeeded, 7 running`: successes out of all, then the other statuses in lifecycle order. */
export function summarizeCounts(total: number, counts: StatusCounts, c: Colors): string {
  const parts = [`${counts.succeeded ?? 0}/${total} ${c.green('succeeded')}`];
  for (const status of RUN_STATUSES) {
    const n = counts[status];
    if (status !== 'succeeded' && n) parts.push(`${n} ${paintStatus(status, c)}`);
  }
  return parts.join(', ');
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Pretty JSON for people; undefined (no output) reads as null. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value ?? null, null, 2);
}

/** Cuts a one-line message to `width` characters (an error's first line, say). */
export function oneLine(text: string, width: number): string {
  const first = text.split('\n', 1)[0] ?? '';
  return first.length <= width ? first : `${first.slice(0, Math.max(0, width - 1))}…`;
}
