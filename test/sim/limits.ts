import type { RateLimitGrant, RateLimitRequest, RunStatus, WriteBatch } from '../../src/store/types.js';
import type { WorkflowSpec } from './workload.js';

/** Statuses of a run that holds its workflow's `maxRuns` slot (a queued run waits for one). */
const HOLDS_SLOT: ReadonlySet<RunStatus> = new Set(['running', 'waiting']);
const ENDED: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

interface RunView {
  workflow: string;
  concurrencyKey: string | null;
  status: RunStatus;
  /** It held a slot once (so a pause keeps it: a paused run resumes without asking again). */
  admitted: boolean;
}

/**
 * The limits, checked while the simulation runs, from what it sees happen (commits as they land,
 * rate-limit grants as the store gives them, step functions as they begin), not from the final
 * state: `maxRuns` (at most that many runs of a workflow and key hold a slot in the durable store
 * after any commit), the rate limit's grants (spaced one interval apart per key, as GCRA grants
 * them) and its starts (no window of one period holds more than `limit` step functions starting).
 * Pools and `maxParallelNodes` are counted per process by the simulation's execution hooks.
 */
export class LimitChecker {
  private readonly runs = new Map<string, RunView>();
  private readonly maxRuns = new Map<string, number>();
  /** Per limit and key: the latest start time granted. */
  private readonly lastGrant = new Map<string, number>();
  /** Per limit and key: when step functions under it began, in order. */
  private readonly starts = new Map<string, number[]>();
  private readonly seenStarts = new Set<string>();
  /** Per limit and key: every start time granted, in order. */
  private readonly grants = new Map<string, number[]>();

  constructor(
    workflows: readonly WorkflowSpec[],
    private readonly violate: (message: string) => void,
    private readonly name: (runId: string) => string,
    private readonly rate: { limit: number; periodMs: number },
    /**
     * Also check that no window of one period holds more than `limit` + 1 step functions starting
     * (on by default; seeds 8 and 22 found a step starting on a stale grant, bunched with fresh ones).
     */
    private readonly checkWindows: boolean,
  ) {
    for (const wf of workflows) if (wf.maxRuns !== undefined) this.maxRuns.set(wf.name, wf.maxRuns);
  }

  /** A commit landed in the durable store (the runs it refused as stale, if any, left out). */
  landed(batch: WriteBatch, refused: ReadonlySet<string>, duplicates: ReadonlySet<string>): void {
    const touched = new Set<string>();
    for (const run of batch.newRuns) {
      if (refused.has(run.id) || duplicates.has(run.id)) continue;
      this.runs.set(run.id, {
        workflow: run.workflow,
        concurrencyKey: run.concurrencyKey,
        status: run.status,
        admitted: HOLDS_SLOT.has(run.status),
      });
      touched.add(run.id);
    }
    for (const update of batch.runUpdates) {
      const view = this.runs.get(update.id);
      if (!view || refused.has(update.id)) continue;
      view.status = update.status;
      if (HOLDS_SLOT.has(update.status)) view.admitted = true;
      if (update.status === 'queued' || ENDED.has(update.status)) view.admitted = false;
      touched.add(update.id);
    }
    const groups = new Set<string>();
    for (const id of touched) {
      const view = this.runs.get(id) as RunView;
      if (this.maxRuns.has(view.workflow)) groups.add(`${view.workflow}\u0000${view.concurrencyKey ?? ''}`);
    }
    for (const group of groups) {
      const [workflow, key] = group.split('\u0000') as [string, string];
      const max = this.maxRuns.get(workflow) as number;
      const holding = [...this.runs.entries()].filter(
        ([, v]) => v.workflow === workflow && (v.concurrencyKey ?? '') === key && v.admitted,
      );
      if (holding.length > max) {
        this.violate(
          `${holding.length} runs of ${workflow} (key "${key}") hold a slot at once, more than its maxRuns ${max}: ${holding.map(([id, v]) => `${this.name(id)}:${v.status}`).join(' ')}`,
        );
      }
    }
  }

  /** The store granted (or refused) a start under a rate limit. */
  granted(request: RateLimitRequest, grant: RateLimitGrant): void {
    if (!grant.granted) return;
    const id = `${request.name}/${request.key}`;
    // The workload's limit, not the one the grant says is in force: a limit loosened in the engine
    // (the planted 'loose-limits' bug) must not loosen the check.
    const intervalMs = this.rate.periodMs / this.rate.limit;
    const last = this.lastGrant.get(id);
    if (grant.startAt < request.now) {
      this.violate(`rate limit ${id} granted a start at ${grant.startAt}, before the request's now ${request.now}`);
    }
    if (last !== undefined && grant.startAt < last + intervalMs - 1e-6) {
      this.violate(
        `rate limit ${id} granted starts ${grant.startAt - last} ms apart, closer than its interval ${intervalMs} ms`,
      );
    }
    this.lastGrant.set(id, last === undefined ? grant.startAt : Math.max(last, grant.startAt));
    const times = this.grants.get(id) ?? [];
    times.push(grant.startAt);
    times.sort((a, b) => a - b);
    this.grants.set(id, times);
  }

  /**
   * A step function under a rate limit began. Each attempt counts once: a step that wakes from a
   * sleep runs its function again within the same attempt, and so does an attempt that was running
   * when its process died, re-run by the next process without asking the limit again (recovery
   * continues the attempt; the README counts attempts).
   */
  started(runId: string, step: string, attempt: number, limit: string, key: string, now: number) {
    const identity = `${runId}/${step}/${attempt}`;
    if (this.seenStarts.has(identity)) return;
    this.seenStarts.add(identity);
    const id = `${limit}/${key}`;
    const times = this.starts.get(id) ?? [];
    times.push(now);
    this.starts.set(id, times);
    // Each start used a grant no later than itself, so (virtual time only goes forward, and starts
    // come in order) the nth start is no earlier than the nth earliest grant: a step function that
    // runs ahead of its granted time, or without one, breaks it.
    const grant = this.grants.get(id)?.[times.length - 1];
    if (grant === undefined || grant > now) {
      this.violate(
        `rate limit ${id}: start ${times.length} (${this.name(runId)}/${step} attempt ${attempt}) at ${now}, ahead of the grants (${grant === undefined ? 'none left' : `the next is for ${grant}`})`,
      );
    }
    // Each start begins within one interval of its own grant (a later one asks again), and grants
    // are one interval apart: so a window of one period holds at most `limit` + 1 starts, and the
    // one `limit` + 1 starts before this one must be a whole period earlier.
    const earlier = times[times.length - 2 - this.rate.limit];
    if (this.checkWindows && earlier !== undefined && now - earlier < this.rate.periodMs) {
      this.violate(
        `rate limit ${id}: ${this.rate.limit + 2} step functions started within ${now - earlier} ms, more than ${this.rate.limit} + 1 per ${this.rate.periodMs} ms`,
      );
    }
  }
}
