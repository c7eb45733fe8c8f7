import type { Coordination } from '../store/coordination.js';

/** Below PostgreSQL's 8000-byte notice payload limit (channels.ts), which the worker does not import. */
const MAX_PAYLOAD_BYTES = 7_900;

/** At most one notice per step this often; the latest value in between is sent when it is over. */
const MIN_INTERVAL_MS = 200;

interface Pending {
  lastSentAt: number;
  /** The latest value not sent yet, as its notice payload. */
  payload: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Shares the `ctx.progress` of the steps this worker runs with the other processes of the cluster
 * (an API server shows it), as notices, never as rows. A step that reports in a tight loop costs
 * at most five notices a second, the last value always sent. Paced in real time: notices are real
 * traffic, and a cluster runs on the system clock (Store.usesDatabaseClock).
 */
export class ProgressSharing {
  private readonly byStep = new Map<string, Pending>();

  constructor(private readonly coordination: Coordination) {}

  report(runId: string, step: string, value: unknown, at: number): void {
    if (!this.coordination.shareProgress) return;
    const key = `${runId}\u0000${step}`;
    let payload = JSON.stringify([runId, step, at, value]);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      payload = JSON.stringify([runId, step, at, 'progress value too large to share (over 7,900 bytes of JSON)']);
    }
    let pending = this.byStep.get(key);
    if (!pending) {
      pending = { lastSentAt: 0, payload: undefined, timer: undefined };
      this.byStep.set(key, pending);
    }
    pending.payload = payload;
    const wait = pending.lastSentAt + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) this.send(key, pending);
    else if (!pending.timer) {
      pending.timer = setTimeout(() => this.send(key, pending), wait);
      pending.timer.unref();
    }
  }

  stop(): void {
    for (const pending of this.byStep.values()) clearTimeout(pending.timer);
    this.byStep.clear();
  }

  private send(key: string, pending: Pending): void {
    clearTimeout(pending.timer);
    pending.timer = undefined;
    const payload = pending.payload;
    pending.payload = undefined;
    pending.lastSentAt = Date.now();
    if (payload !== undefined) this.coordination.shareProgress?.(payload).catch(() => {});
    // Forgotten once quiet: a step that reports no more costs nothing.
    setTimeout(() => {
      if (pending.payload === undefined && !pending.timer && this.byStep.get(key) === pending) this.byStep.delete(key);
    }, MIN_INTERVAL_MS).unref();
  }
}

/** The fields of a progress notice, or undefined for one this version cannot read. */
export function readProgressNotice(
  payload: string,
): { runId: string; step: string; at: number; value: unknown } | undefined {
  try {
    const [runId, step, at, value] = JSON.parse(payload) as [unknown, unknown, unknown, unknown];
    if (typeof runId !== 'string' || typeof step !== 'string' || typeof at !== 'number') return undefined;
    return { runId, step, at, value };
  } catch {
    return undefined;
  }
}
