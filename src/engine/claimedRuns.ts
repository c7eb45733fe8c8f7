import { RunCancelledError, serializeError } from '../model/errors.js';
import type { ClaimedRun } from '../store/coordination.js';
import { isTerminalRun, type RunControl } from '../store/types.js';
import { ConcurrencyLimitError } from './concurrency.js';
import type { Dispatcher } from './dispatcher.js';
import type { RunEnding } from './ending.js';
import type { RunLifecycle } from './lifecycle.js';
import type { RunObserver } from './observer.js';
import type { ClusterPort } from './ports.js';
import type { WorkflowRegistry } from './registry.js';
import type { RunSleep } from './runSleep.js';
import { isActive } from './runState.js';
import type { RunTable } from './runTable.js';
import type { Suspensions } from './suspensions.js';

/**
 * What a worker hands the engine in a cluster: runs it has just claimed (restored and carried on
 * from their stored state, or put through the control request that made them claimable) and
 * control requests (cancel, pause, resume) sent by other processes for runs held here.
 */
export class ClaimedRuns {
  constructor(
    private readonly registry: WorkflowRegistry,
    private readonly runs: RunTable,
    private readonly observer: RunObserver,
    private readonly dispatcher: Dispatcher,
    private readonly ending: RunEnding,
    private readonly lifecycle: RunLifecycle,
    private readonly sleep: RunSleep,
    private readonly suspensions: Suspensions,
    private readonly hooks: { cluster(): ClusterPort | undefined; isClosed(): boolean },
  ) {}

  adopt(claimed: ClaimedRun): void {
    const { run: rec, control } = claimed;
    const plan = this.registry.find(rec.workflow);
    if (this.runs.has(rec.id) || !plan || this.hooks.isClosed()) {
      if (!this.runs.has(rec.id)) this.hooks.cluster()?.handBack([rec.id]);
      return;
    }
    // With its waits, as a run loaded from the store: a step whose waits were settled while the
    // run was asleep goes on where it waited, and its row is no longer a sleeping one.
    const run = this.runs.restore(rec, plan, claimed.steps, claimed.waits);
    // The children its steps spawned before, read with the claim: a step run again spawns and
    // joins from them at once (a child that settled since the claim's read is heard afterwards:
    // see ClaimedRun.childLinks). Without them the step reads them itself when it runs.
    const live = (runId: string) => this.runs.get(runId)?.rec;
    for (const { step, links } of claimed.childLinks ?? []) run.steps.get(step)?.children?.attach(links, live);
    this.suspensions.noteWokenOnLoad(run);
    this.sleep.markAwake(run);
    this.observer.openRunSpan(run, undefined);
    run.waitingForConcurrency = false; // admitted by the claim, against the slots in the database
    if (claimed.denied) {
      const max = claimed.maxRuns ?? plan.workflow.options.maxRuns ?? 0;
      const error = new ConcurrencyLimitError(rec.workflow, rec.concurrencyKey ?? '', max);
      this.ending.finalize(run, 'cancelled', { error: serializeError(error) });
      return;
    }
    if (control?.action === 'cancel') {
      const error = new RunCancelledError(rec.id, control.reason ?? undefined);
      this.ending.finalize(run, 'cancelled', { error: serializeError(error) });
      return;
    }
    if (rec.status === 'paused') {
      if (control?.action === 'resume') this.lifecycle.applyResume(run);
      else this.lifecycle.handBackPaused(run);
      return;
    }
    if (control?.action === 'pause') {
      this.lifecycle.applyPause(run);
      return;
    }
    if (rec.status === 'queued') this.lifecycle.startRun(run);
    else {
      this.ending.armDeadline(run);
      this.lifecycle.advance(run);
    }
    this.dispatcher.pump();
  }

  applyControls(controls: readonly RunControl[]): void {
    for (const c of controls) {
      const run = this.runs.get(c.runId);
      if (!run || isTerminalRun(run.rec.status)) continue;
      if (c.action === 'cancel') {
        const error = new RunCancelledError(c.runId, c.reason ?? undefined);
        this.ending.finalize(run, 'cancelled', { error: serializeError(error) });
      } else if (c.action === 'pause' && (isActive(run) || run.rec.status === 'queued')) {
        this.lifecycle.applyPause(run);
      } else if (c.action === 'resume' && run.rec.status === 'paused') this.lifecycle.applyResume(run);
    }
  }
}
