/** The log lines `braid dev` and `braid worker` print as runs end. */

import type { RunStatus } from '../../store/types.js';
import type { Colors } from './colors.js';
import { formatDuration, oneLine, paintStatus, plural, statusSymbol } from './format.js';

export interface EndedRun {
  id: string;
  workflow: string;
  status: RunStatus;
  durationMs: number | null;
  errorMessage: string | null;
  /** Child runs it spawned (and their descendants are not counted). */
  children: number;
}

export function runEndLine(run: EndedRun, c: Colors, at = new Date()): string {
  const time = at.toTimeString().slice(0, 8);
  const children = run.children ? c.dim(` (${plural(run.children, 'child run')})`) : '';
  const error = run.errorMessage ? c.dim(`: ${oneLine(run.errorMessage, 160)}`) : '';
  return (
    `${c.dim(time)} ${statusSymbol(run.status, c)} ${run.workflow} ${run.id} ` +
    `${paintStatus(run.status, c)} in ${formatDuration(run.durationMs)}${children}${error}`
  );
}
