import type { Engine } from '../engine/engine.js';
import type { EventRecord, StreamChunk } from '../store/types.js';
import type { ClusterMember } from '../worker/clusterMember.js';
import type { StreamSignals } from './stepStream.js';

/** How often a reader in a cluster re-reads without a notice: notices can be lost with a connection. */
const CLUSTER_POLL_MS = 1_000;

/**
 * The signals stream readers wait on: this process's commits (chunks and events, heard from the
 * engine's write queue, so one process never polls), and on PostgreSQL the other processes'
 * (braid_streams notices for chunks, the cluster's event feed for steps and runs that end), with a
 * safety poll. Readers register per run; with none registered a commit costs one size check.
 */
export class StreamWatchers implements StreamSignals {
  private readonly byRun = new Map<string, Set<() => void>>();
  private isHearingCommits = false;
  private stopFeed: (() => void) | undefined;
  private stopNotices: (() => void) | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly member: () => ClusterMember | undefined,
  ) {}

  get pollMs(): number | undefined {
    return this.member() ? CLUSTER_POLL_MS : undefined;
  }

  stepsOf(workflow: string): readonly string[] | undefined {
    try {
      return this.engine.registry.planFor(workflow).workflow.steps.map((s) => s.name);
    } catch {
      return undefined; // not registered here: another process's workflow
    }
  }

  watch(runId: string, wake: () => void): () => void {
    this.hearCommits();
    let wakes = this.byRun.get(runId);
    if (!wakes) {
      wakes = new Set();
      this.byRun.set(runId, wakes);
    }
    wakes.add(wake);
    return () => {
      const set = this.byRun.get(runId);
      set?.delete(wake);
      if (set && !set.size) this.byRun.delete(runId);
      if (!this.byRun.size) this.stopHearingOthers();
    };
  }

  private hearCommits(): void {
    if (!this.isHearingCommits) {
      this.isHearingCommits = true;
      this.engine.queue.onChunksCommitted((chunks) => this.chunksCommitted(chunks));
      this.engine.onCommitted((events) => this.eventsCommitted(events));
    }
    const member = this.member();
    if (member && !this.stopFeed) {
      // The feed makes every process's commits announce their events and chunks while it is open.
      this.stopFeed = member.onEvents((events) => this.eventsCommitted(events));
      this.stopNotices = member.onStreamNotices((runIds) => {
        for (const runId of runIds) this.wake(runId);
      });
    }
  }

  private stopHearingOthers(): void {
    this.stopFeed?.();
    this.stopNotices?.();
    this.stopFeed = undefined;
    this.stopNotices = undefined;
  }

  private chunksCommitted(chunks: readonly StreamChunk[]): void {
    if (!this.byRun.size) return;
    let last: string | undefined;
    for (const chunk of chunks) {
      if (chunk.runId === last) continue;
      last = chunk.runId;
      this.wake(chunk.runId);
    }
  }

  private eventsCommitted(events: readonly EventRecord[]): void {
    if (!this.byRun.size) return;
    for (const event of events) this.wake(event.runId);
  }

  private wake(runId: string): void {
    const wakes = this.byRun.get(runId);
    if (wakes) for (const wake of wakes) wake();
  }
}
