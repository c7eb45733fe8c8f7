/** How times, durations and payloads read on screen. */
import { isTerminalRun, type Run } from './api/types.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** `14:03:27` today, `2026-01-03 14:03:27` on another day (local time). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return isToday(d) ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** Shorter, for a graph node: `14:03:27` today, `01-03 14:03` on another day (local time). */
export function formatShortTime(ms: number): string {
  const d = new Date(ms);
  if (isToday(d)) return formatTime(ms);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function isToday(d: Date): boolean {
  const today = new Date();
  return (
    d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate()
  );
}

/** The exact instant, for a title attribute. */
export function isoTime(ms: number | null | undefined): string | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms).toISOString();
}

/** `340 ms`, `4.2 s`, `3m 05s`, `2h 07m`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  return hours > 0 ? `${hours}h ${pad(minutes)}m` : `${minutes}m ${pad(seconds)}s`;
}

/** A duration that keeps growing while the thing runs. */
export function liveDuration(startedAt: number | null, finishedAt: number | null, now: number): number | null {
  if (startedAt === null) return null;
  return (finishedAt ?? Math.max(now, startedAt)) - startedAt;
}

/** A run's duration: it grows while the run moves, and stops at its end or, while paused, its pause. */
export function runDuration(run: Pick<Run, 'startedAt' | 'finishedAt' | 'pausedAt'>, now: number): number | null {
  return liveDuration(run.startedAt, run.finishedAt ?? run.pausedAt, now);
}

/** Whether a run's shown duration changes by itself (a clock must tick for it). */
export function isRunMoving(run: Pick<Run, 'status'>): boolean {
  return !isTerminalRun(run.status) && run.status !== 'paused';
}

/** Strings as they are (so multi-line text stays readable), anything else as indented JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}
