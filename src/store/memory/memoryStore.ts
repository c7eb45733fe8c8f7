import { chunkPageSize } from '../chunkPaging.js';
import { RateLimitTable } from '../rateLimits.js';
import { decodeRunCursor, encodeRunCursor, eventPageSize, runPageSize, statusList } from '../runPaging.js';
import { groupRunStates } from '../runStates.js';
import type { CommitResult, Store, WakeCursor } from '../store.js';
import type {
  KeyedRunCount,
  LimitKind,
  LimitSetting,
  RateLimitGrant,
  RateLimitRequest,
  RateLimitSetting,
  RateLimitState,
} from '../types.js';
import {
  type CacheEntry,
  type ChildLink,
  type ChunkQuery,
  COMPACTABLE_EVENT_TYPES,
  type CompactionCounts,
  type DebounceResult,
  type DebounceTrigger,
  type DueSchedules,
  debounceDueAt,
  type EventRecord,
  emptyPruneCounts,
  type ForkRecord,
  type InboxEvent,
  type InputResolution,
  isPendingDebounceRun,
  isTerminalRun,
  type PendingDebounce,
  type PruneCounts,
  type PruneSelection,
  type RunFilter,
  type RunPage,
  type RunRecord,
  type RunUpdate,
  type ScheduleRecord,
  type ScheduleTickRecord,
  type ScheduleWrite,
  type StatusCounts,
  type StepRecord,
  type StepRef,
  type StoredRunState,
  type StreamChunk,
  type WaitRecord,
  type WriteBatch,
} from '../types.js';
import { eventMatchesWait, eventValue } from '../waitMatching.js';
import { MemorySchedules } from './memorySchedules.js';

/**
 * A Store in plain Maps, for tests and for runs that need no durability. It keeps the same rules
 * as the SQLite store (the conformance suite checks both): a batch is validated in full before
 * anything is applied, so it lands whole or not at all, and records are copied on the way in and
 * out, so a caller mutating an object it passed or received cannot change what is stored.
 */
export class MemoryStore implements Store {
  readonly description = 'memory';

  private readonly runs = new Map<string, RunRecord>();
  /** Debounce keys, by workflow and key: the key's latest run and its trigger history. */
  private readonly debounces = new Map<string, PendingDebounce>();
  /** idempotencyKey -> run id, for the "first one wins" rule. */
  private readonly runIdByIdempotencyKey = new Map<string, string>();
  /** parentRunId + NUL + parentStep -> spawnKey -> child run id. */
  private readonly childrenByParentStep = new Map<string, Map<string, string>>();
  /** runId -> step name -> step. */
  private readonly steps = new Map<string, Map<string, StepRecord>>();
  /** All events in seq order (pruning removes some, so seqs have gaps). */
  private events: EventRecord[] = [];
  /** The last seq assigned: a seq is never reused, even once its event is pruned. */
  private lastSeq = 0;
  /** runId -> that run's events in seq order (the same copies as in `events`). */
  private readonly eventsByRun = new Map<string, EventRecord[]>();
  private readonly cache = new Map<string, CacheEntry>();
  /** run + NUL + step + NUL + key -> wait. */
  private readonly waits = new Map<string, WaitRecord>();
  private readonly inbox: Array<Required<InboxEvent>> = [];
  private readonly inboxByKey = new Map<string, Required<InboxEvent>>();
  /** Fork links by forked run id. */
  private readonly forks = new Map<string, ForkRecord>();
  /** run id -> that run's chunks (every step and stream) in seq order. */
  private readonly chunksByRun = new Map<string, StreamChunk[]>();
  private chunkSeq = 0;
  private readonly schedules = new MemorySchedules();
  private readonly rateLimits = new RateLimitTable();
  private readonly limitSettings = new Map<string, LimitSetting>();

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async writeSchedule(write: ScheduleWrite): Promise<void> {
    this.schedules.check([write]);
    this.schedules.apply([write]);
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.schedules.get(id);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.schedules.list();
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return this.schedules.delete(id);
  }

  async listScheduleTicks(scheduleId: string, limit?: number): Promise<ScheduleTickRecord[]> {
    return this.schedules.listTicks(scheduleId, limit);
  }

  async nextScheduleDueAt(workflows: readonly string[]): Promise<number | null> {
    return this.schedules.nextDueAt(workflows);
  }

  async claimDueSchedules(
    now: number,
    owner: string,
    leaseMs: number,
    limit: number,
    workflows: readonly string[],
  ): Promise<DueSchedules> {
    return { schedules: this.schedules.claimDue(now, owner, leaseMs, limit, workflows), now };
  }

  async commit(batch: WriteBatch): Promise<CommitResult> {
    // Copy everything before touching state, each record's required fields checked as it is copied
    // (one pass over the batch, not a check pass and then a copy pass: W3's commits took 52 ms with
    // both, 17 ms in the engine before they were added): after this point nothing can throw part way.
    const newRuns = batch.newRuns.map(copyRun);
    // A run update's fields are assigned onto the stored run below, so they need a check, not a copy.
    for (let i = 0; i < batch.runUpdates.length; i++) checkRunUpdate(batch.runUpdates[i] as RunUpdate, i);
    const steps = batch.steps.map(copyStep);
    const events = batch.events.map(copyEvent);
    const cache = batch.cache.map(copyCacheEntry);
    const forks = batch.forks?.map(copyFork);
    const chunks = batch.chunks?.map(copyChunk);
    // A tick's schedule write must still apply, or nothing of the batch lands (its run neither).
    if (batch.schedules?.length) this.schedules.check(batch.schedules);

    // Decided on the state before the batch: a run the batch itself ends may still be updated again.
    let stale: Set<string> | undefined;
    for (const update of batch.runUpdates) {
      const run = this.runs.get(update.id);
      if (!run || !isTerminalRun(run.status)) continue;
      stale ??= new Set();
      stale.add(run.id);
    }
    const isBlocked = (runId: string | null) => stale !== undefined && runId !== null && stale.has(runId);

    if (batch.schedules?.length) this.schedules.apply(batch.schedules);
    const duplicateRunIds: string[] = [];
    const lastParent: SiblingsOf = { parentRunId: null, parentStep: null, siblings: undefined };
    for (const run of newRuns) {
      if (isBlocked(run.parentRunId)) continue;
      if (!this.insertRun(run, lastParent)) duplicateRunIds.push(run.id);
    }
    for (const fork of forks ?? []) {
      if (!duplicateRunIds.includes(fork.runId) && this.runs.has(fork.runId)) this.forks.set(fork.runId, fork);
    }
    for (const update of batch.runUpdates) {
      const run = this.runs.get(update.id);
      if (run && !stale?.has(run.id)) applyRunUpdate(run, update);
    }
    for (const step of steps) {
      if (isBlocked(step.runId)) continue;
      let byName = this.steps.get(step.runId);
      if (!byName) {
        byName = new Map();
        this.steps.set(step.runId, byName);
      }
      byName.set(step.name, step);
    }
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (isBlocked(event.runId)) continue;
      event.seq = ++this.lastSeq;
      this.events.push(event);
      let ofRun = this.eventsByRun.get(event.runId);
      if (!ofRun) {
        ofRun = [];
        this.eventsByRun.set(event.runId, ofRun);
      }
      ofRun.push(event);
      batch.events[i]!.seq = event.seq;
    }
    for (const entry of cache) this.cache.set(entry.key, entry);
    if (chunks) this.appendChunks(batch, chunks, isBlocked);
    const result: CommitResult = { duplicateRunIds };
    if (stale) result.staleRunIds = [...stale];
    if (batch.waits?.length || batch.inbox?.length || batch.inputs?.length) {
      Object.assign(result, this.writeWaits(batch, stale ?? new Set()));
    }
    return result;
  }

  /**
   * Waits, events and inputs, after runs and steps, with the SQLite store's rules: the inbox first
   * (a wait of this batch sees an event of this batch), a settled wait is never changed again, and
   * each resolution settles its whole group and wakes a sleeping run.
   */
  private writeWaits(batch: WriteBatch, stale: ReadonlySet<string>): Partial<CommitResult> {
    const at = batch.at ?? Date.now(); // the engine's clock; the system's for a batch without one
    const settledWaits: WaitRecord[] = [];
    const duplicateEvents: InboxEvent[] = [];
    const fresh: InboxEvent[] = [];
    for (const e of batch.inbox ?? []) {
      const known = e.idempotencyKey === null ? undefined : this.inboxByKey.get(e.idempotencyKey);
      if (known) {
        e.seq = known.seq;
        duplicateEvents.push(e);
        continue;
      }
      const stored = { ...e, seq: this.inbox.length + 1 };
      e.seq = stored.seq;
      this.inbox.push(stored);
      if (e.idempotencyKey !== null) this.inboxByKey.set(e.idempotencyKey, stored);
      fresh.push(stored);
    }
    const registered: WaitRecord[] = [];
    for (const w of batch.waits ?? []) {
      if (stale.has(w.runId)) continue;
      const id = waitId(w);
      const known = this.waits.get(id);
      if (known && known.status !== 'pending') {
        settledWaits.push({ ...known });
        continue;
      }
      const copy = { ...w };
      this.waits.set(id, copy);
      if (copy.status === 'pending' && copy.kind === 'event') registered.push(copy);
    }
    for (const wait of registered) {
      const event = this.inbox.find((e) => eventMatchesWait(wait, e, JSON.parse(e.payload)));
      if (event) this.settleGroup(wait, eventValue(event), at, settledWaits);
    }
    for (const event of fresh) {
      const payload = JSON.parse(event.payload);
      for (const wait of this.waits.values()) {
        if (eventMatchesWait(wait, event, payload)) this.settleGroup(wait, eventValue(event), at, settledWaits);
      }
    }
    const unmatchedInputs: InputResolution[] = [];
    for (const input of batch.inputs ?? []) {
      const wait = [...this.waits.values()]
        .filter(
          (w) =>
            w.runId === input.runId &&
            w.kind === 'input' &&
            w.name === input.name &&
            w.status === 'pending' &&
            (w.dueAt === null || w.dueAt > input.at),
        )
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.key, b.key))[0];
      if (wait) this.settleGroup(wait, input.value, input.at, settledWaits);
      else unmatchedInputs.push(input);
    }
    const out: Partial<CommitResult> = {};
    if (settledWaits.length) out.settledWaits = settledWaits;
    if (duplicateEvents.length) out.duplicateEvents = duplicateEvents;
    if (unmatchedInputs.length) out.unmatchedInputs = unmatchedInputs;
    return out;
  }

  private settleGroup(wait: WaitRecord, value: string, at: number, out: WaitRecord[]): void {
    if (wait.status !== 'pending') return;
    Object.assign(wait, { status: 'resolved', value, resolvedAt: at });
    out.push({ ...wait });
    for (const other of this.waits.values()) {
      if (other.runId !== wait.runId || other.step !== wait.step || other.group !== wait.group) continue;
      if (other.status !== 'pending') continue;
      Object.assign(other, { status: 'cancelled', value: null, resolvedAt: at });
      out.push({ ...other });
    }
    const run = this.runs.get(wait.runId);
    if (run && run.wakeAt !== null && run.wakeAt > at) run.wakeAt = at;
  }

  async getWaits(runId: string): Promise<WaitRecord[]> {
    return this.waitsWhere((w) => w.runId === runId);
  }

  /** Copies of the waits that pass `keep`, in the stores' order for a run's waits (created, step, key). */
  private waitsWhere(keep: (wait: WaitRecord) => boolean): WaitRecord[] {
    return [...this.waits.values()]
      .filter(keep)
      .sort((a, b) => a.createdAt - b.createdAt || compareText(a.step, b.step) || compareText(a.key, b.key))
      .map((w) => ({ ...w }));
  }

  async listInbox(options: { name?: string; limit?: number }): Promise<InboxEvent[]> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    return this.inbox
      .filter((e) => options.name === undefined || e.name === options.name)
      .slice(-limit)
      .reverse()
      .map((e) => ({ ...e }));
  }

  private appendChunks(batch: WriteBatch, chunks: StreamChunk[], isBlocked: (runId: string) => boolean): void {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (isBlocked(chunk.runId)) continue;
      chunk.seq = ++this.chunkSeq;
      let ofRun = this.chunksByRun.get(chunk.runId);
      if (!ofRun) {
        ofRun = [];
        this.chunksByRun.set(chunk.runId, ofRun);
      }
      ofRun.push(chunk);
      batch.chunks![i]!.seq = chunk.seq;
    }
  }

  async listChunks(query: ChunkQuery): Promise<StreamChunk[]> {
    const limit = chunkPageSize(query.limit);
    const out: StreamChunk[] = [];
    const ofRun = this.chunksByRun.get(query.runId) ?? [];
    for (let i = firstIndexAfter(ofRun, query.afterSeq ?? 0); i < ofRun.length && out.length < limit; i++) {
      const chunk = ofRun[i]!;
      if (query.step !== undefined && chunk.step !== query.step) continue;
      if (query.stream !== undefined && chunk.stream !== query.stream) continue;
      if (query.attempt !== undefined && chunk.attempt !== query.attempt) continue;
      out.push(readChunk(chunk));
    }
    return out;
  }

  /**
   * Inserts a run unless its id, idempotency key or (parent run, step, spawn key) is taken.
   * `last`: the siblings of the run inserted before it in this commit, kept so that a fan-out's
   * children (all of one parent step, one after another) find their parent's map without building
   * and hashing its key once per child.
   */
  private insertRun(run: RunRecord, last: SiblingsOf): boolean {
    if (this.runs.has(run.id)) return false;
    if (run.idempotencyKey !== null && this.runIdByIdempotencyKey.has(run.idempotencyKey)) return false;
    if (run.parentRunId !== null && run.parentStep !== null && run.spawnKey !== null) {
      let siblings = last.siblings;
      if (siblings === undefined || last.parentRunId !== run.parentRunId || last.parentStep !== run.parentStep) {
        const parentKey = childKey(run.parentRunId, run.parentStep);
        siblings = this.childrenByParentStep.get(parentKey);
        if (!siblings) {
          siblings = new Map();
          this.childrenByParentStep.set(parentKey, siblings);
        }
        last.parentRunId = run.parentRunId;
        last.parentStep = run.parentStep;
        last.siblings = siblings;
      }
      if (siblings.has(run.spawnKey)) return false;
      siblings.set(run.spawnKey, run.id);
    }
    if (run.idempotencyKey !== null) this.runIdByIdempotencyKey.set(run.idempotencyKey, run.id);
    this.runs.set(run.id, run);
    return true;
  }

  async debounce(trigger: DebounceTrigger): Promise<DebounceResult> {
    const { key, now, windowMs, maxWaitMs } = trigger;
    const workflow = trigger.run.workflow;
    const id = `${workflow}\0${key}`;
    const known = this.debounces.get(id);
    const pending = known ? this.runs.get(known.runId) : undefined;
    let entry: PendingDebounce;
    if (known && isPendingDebounceRun(pending, now)) {
      entry = known;
      entry.dueAt = debounceDueAt(entry.firstAt, now, windowMs, maxWaitMs);
      entry.lastAt = now;
      entry.triggers++;
      entry.input = trigger.run.input;
      pending.input = trigger.run.input;
      pending.priority = trigger.run.priority;
      pending.wakeAt = entry.dueAt;
    } else {
      const run = copyRun(trigger.run);
      const dueAt = debounceDueAt(now, now, windowMs, maxWaitMs);
      run.wakeAt = dueAt;
      if (!this.insertRun(run, { parentRunId: null, parentStep: null, siblings: undefined }))
        throw new Error(`Run ${run.id} exists already; a debounce needs a new run id.`);
      entry = { workflow, key, runId: run.id, input: run.input, firstAt: now, lastAt: now, dueAt, triggers: 1 };
      this.debounces.set(id, entry);
    }
    this.appendEvent({
      runId: entry.runId,
      step: null,
      type: 'run_queued',
      at: now,
      attempt: null,
      data: JSON.stringify({ reason: 'debounce', key, trigger: entry.triggers }),
    });
    return { runId: entry.runId, isNew: entry.triggers === 1, triggers: entry.triggers, dueAt: entry.dueAt };
  }

  async listDebounces(filter: { workflow?: string; limit?: number }): Promise<PendingDebounce[]> {
    // Pending until started: a run whose due time has come but that no scan has woken yet is listed.
    return [...this.debounces.values()]
      .filter(
        (d) =>
          (filter.workflow === undefined || d.workflow === filter.workflow) &&
          isPendingDebounceRun(this.runs.get(d.runId), Number.NEGATIVE_INFINITY),
      )
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, filter.limit ?? 100)
      .map((d) => ({ ...d }));
  }

  private appendEvent(event: EventRecord): void {
    event.seq = ++this.lastSeq;
    this.events.push(event);
    const ofRun = this.eventsByRun.get(event.runId);
    if (ofRun) ofRun.push(event);
    else this.eventsByRun.set(event.runId, [event]);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const run = this.runs.get(id);
    return run && copyRun(run);
  }

  async findRunByIdempotencyKey(key: string): Promise<RunRecord | undefined> {
    const id = this.runIdByIdempotencyKey.get(key);
    return id === undefined ? undefined : this.getRun(id);
  }

  async listUnfinishedRuns(workflows?: readonly string[], now?: number): Promise<RunRecord[]> {
    const names = workflows && new Set(workflows);
    const out: RunRecord[] = [];
    for (const run of this.runs.values()) {
      if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting') continue;
      if (names && !names.has(run.workflow)) continue;
      if (now !== undefined && run.wakeAt !== null && run.wakeAt > now) continue;
      out.push(copyRun(run));
    }
    return out.sort(compareRunsAsc);
  }

  async listRunsToWake(
    now: number,
    limit: number,
    workflows: readonly string[],
    after?: WakeCursor,
  ): Promise<RunRecord[]> {
    return this.sleeping(workflows)
      .filter((run) => (run.wakeAt as number) <= now && (!after || compareWake(run, after) > 0))
      .sort(compareWake)
      .slice(0, limit)
      .map(copyRun);
  }

  async nextWakeAt(workflows: readonly string[]): Promise<number | null> {
    let next: number | null = null;
    for (const run of this.sleeping(workflows)) if (next === null || (run.wakeAt as number) < next) next = run.wakeAt;
    return next;
  }

  /** Unfinished runs of these workflows that have a wake-up time. */
  private sleeping(workflows: readonly string[]): RunRecord[] {
    const names = new Set(workflows);
    const out: RunRecord[] = [];
    for (const run of this.runs.values()) {
      if (run.wakeAt === null || !names.has(run.workflow)) continue;
      if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting') continue;
      out.push(run);
    }
    return out;
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    const limit = runPageSize(filter.limit);
    const isDesc = filter.order !== 'asc';
    const after = filter.cursor === undefined ? undefined : decodeRunCursor(filter.cursor);
    const statuses = statusList(filter.status);
    const matching: RunRecord[] = [];
    for (const run of this.runs.values()) {
      if (!matchesFilter(run, filter)) continue;
      if (statuses && !statuses.includes(run.status)) continue;
      if (after) {
        const position = compareRunsAsc(run, after);
        if (isDesc ? position >= 0 : position <= 0) continue;
      }
      matching.push(run);
    }
    matching.sort(isDesc ? (a, b) => compareRunsAsc(b, a) : compareRunsAsc);
    const page = matching.slice(0, limit).map(copyRun);
    const last = page[page.length - 1];
    const nextCursor = matching.length > limit && last ? encodeRunCursor(last) : null;
    return { runs: page, nextCursor };
  }

  async countRuns(filter: Omit<RunFilter, 'cursor' | 'limit' | 'order' | 'status'>): Promise<StatusCounts> {
    const counts: StatusCounts = {};
    for (const run of this.runs.values()) {
      if (matchesFilter(run, filter)) counts[run.status] = (counts[run.status] ?? 0) + 1;
    }
    return counts;
  }

  async getFork(runId: string): Promise<ForkRecord | undefined> {
    const fork = this.forks.get(runId);
    return fork && copyFork(fork);
  }

  async listForks(runId: string, limit = 100): Promise<ForkRecord[]> {
    const forks = [...this.forks.values()].filter((f) => f.forkedFrom === runId);
    forks.sort((a, b) => a.createdAt - b.createdAt || compareText(a.runId, b.runId));
    return forks.slice(0, Math.min(Math.max(limit, 1), 1000)).map(copyFork);
  }

  async getSteps(runId: string): Promise<StepRecord[]> {
    const byName = this.steps.get(runId);
    if (!byName) return [];
    return [...byName.values()].sort((a, b) => compareText(a.name, b.name)).map(copyStep);
  }

  async listEvents(options: { runId?: string; afterSeq?: number; limit?: number }): Promise<EventRecord[]> {
    const source = options.runId === undefined ? this.events : (this.eventsByRun.get(options.runId) ?? []);
    const start = firstIndexAfter(source, options.afterSeq ?? 0);
    return source.slice(start, start + eventPageSize(options.limit)).map(readEvent);
  }

  async getChildLinks(parentRunId: string, parentStep: string): Promise<ChildLink[]> {
    const siblings = this.childrenByParentStep.get(childKey(parentRunId, parentStep));
    if (!siblings) return [];
    const children: RunRecord[] = [];
    for (const id of siblings.values()) children.push(this.runs.get(id)!);
    return children.sort(compareRunsAsc).map((run) => ({
      spawnKey: run.spawnKey!,
      runId: run.id,
      workflow: run.workflow,
      status: run.status,
      output: run.output,
      error: run.error,
    }));
  }

  async getRunStates(runIds: readonly string[]): Promise<Map<string, StoredRunState>> {
    const steps = (await Promise.all(runIds.map((runId) => this.getSteps(runId)))).flat();
    const wanted = new Set(runIds);
    return groupRunStates(
      steps,
      this.waitsWhere((w) => wanted.has(w.runId)),
    );
  }

  async getChildLinksOfSteps(steps: readonly StepRef[]): Promise<ChildLink[][]> {
    return Promise.all(steps.map((s) => this.getChildLinks(s.runId, s.step)));
  }

  async getCache(key: string, now: number): Promise<CacheEntry | undefined> {
    const entry = this.cache.get(key);
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= now)) return undefined;
    return copyCacheEntry(entry);
  }

  async takeRateLimits(requests: readonly RateLimitRequest[]): Promise<RateLimitGrant[]> {
    return requests.map((request) => this.rateLimits.take(request));
  }

  async setRateLimit(setting: RateLimitSetting): Promise<void> {
    this.rateLimits.set(setting);
  }

  async resetRateLimit(name: string): Promise<void> {
    this.rateLimits.reset(name);
  }

  async listRateLimitSettings(): Promise<RateLimitSetting[]> {
    return this.rateLimits.listSettings();
  }

  async listBusyRateLimits(now: number, limit: number): Promise<RateLimitState[]> {
    return this.rateLimits.listBusy(now, limit);
  }

  async setLimitSetting(setting: LimitSetting): Promise<void> {
    this.limitSettings.set(`${setting.kind}\0${setting.name}`, { ...setting });
  }

  async resetLimitSetting(kind: LimitKind, name: string): Promise<void> {
    this.limitSettings.delete(`${kind}\0${name}`);
  }

  async listLimitSettings(): Promise<LimitSetting[]> {
    return [...this.limitSettings.values()]
      .map((s) => ({ ...s }))
      .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1));
  }

  async countKeyedRuns(workflows: readonly string[], now: number, limit: number): Promise<KeyedRunCount[]> {
    const names = new Set(workflows);
    const counts = new Map<string, KeyedRunCount>();
    for (const run of this.runs.values()) {
      if (run.concurrencyKey === null || !names.has(run.workflow)) continue;
      const queued = run.status === 'queued';
      if (queued && run.wakeAt !== null && run.wakeAt > now) continue; // a debounced run not due yet
      const active =
        run.status === 'running' || run.status === 'waiting' || (run.status === 'paused' && run.startedAt !== null);
      if (!queued && !active) continue;
      const id = `${run.workflow}\0${run.concurrencyKey}`;
      let count = counts.get(id);
      if (!count) {
        count = { workflow: run.workflow, key: run.concurrencyKey, active: 0, queued: 0 };
        counts.set(id, count);
      }
      if (queued) count.queued++;
      else count.active++;
    }
    return [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([, count]) => count);
  }

  async pruneRuns(selection: PruneSelection, now: number): Promise<PruneCounts> {
    return this.prune(selection, now, true);
  }

  async countPrunable(selection: Omit<PruneSelection, 'limit'>, now: number): Promise<PruneCounts> {
    return this.prune({ ...selection, limit: Number.POSITIVE_INFINITY }, now, false);
  }

  /** Chooses trees as the SQL stores do (each status in turn, oldest first); deletes them when asked. */
  private prune(s: PruneSelection, now: number, isDeleting: boolean): PruneCounts {
    const counts = emptyPruneCounts();
    const trees = new Map<string, RunRecord[]>();
    for (const run of this.runs.values()) {
      const tree = trees.get(run.rootRunId);
      if (tree) tree.push(run);
      else trees.set(run.rootRunId, [run]);
    }
    const roots: RunRecord[] = [];
    for (const status of s.statuses) {
      const found = [...this.runs.values()]
        .filter(
          (r) =>
            r.status === status &&
            r.parentRunId === null &&
            r.finishedAt !== null &&
            r.finishedAt < s.finishedBefore &&
            (s.workflow === null || r.workflow === s.workflow) &&
            !s.excludeWorkflows.includes(r.workflow) &&
            (trees.get(r.id) ?? []).every((c) => isTerminalRun(c.status)),
        )
        .sort(compareRunsAsc);
      roots.push(...found.slice(0, s.limit - roots.length));
      if (roots.length >= s.limit) break;
    }
    const doomed = new Set<string>();
    for (const root of roots) for (const run of trees.get(root.id) ?? []) doomed.add(run.id);
    counts.roots = roots.length;
    counts.runs = doomed.size;
    for (const id of doomed) {
      counts.steps += this.steps.get(id)?.size ?? 0;
      counts.events += this.eventsByRun.get(id)?.length ?? 0;
    }
    for (const w of this.waits.values()) if (doomed.has(w.runId)) counts.waits++;
    const expired = [...this.cache.values()].filter((c) => c.expiresAt !== null && c.expiresAt <= now);
    counts.cache = Math.min(expired.length, s.limit);
    if (!isDeleting) return counts;

    for (const id of doomed) this.forgetRun(id);
    if (doomed.size) this.events = this.events.filter((e) => !doomed.has(e.runId));
    for (const [key, w] of this.waits) if (doomed.has(w.runId)) this.waits.delete(key);
    for (const entry of expired.slice(0, counts.cache)) this.cache.delete(entry.key);
    return counts;
  }

  /** Drops a run and what indexes it (not the global event list: the caller filters that once). */
  private forgetRun(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    this.runs.delete(id);
    this.steps.delete(id);
    this.eventsByRun.delete(id);
    this.chunksByRun.delete(id);
    this.forks.delete(id);
    if (run.idempotencyKey !== null && this.runIdByIdempotencyKey.get(run.idempotencyKey) === id) {
      this.runIdByIdempotencyKey.delete(run.idempotencyKey);
    }
    if (run.parentRunId !== null && run.parentStep !== null && run.spawnKey !== null) {
      const key = childKey(run.parentRunId, run.parentStep);
      const siblings = this.childrenByParentStep.get(key);
      siblings?.delete(run.spawnKey);
      if (siblings?.size === 0) this.childrenByParentStep.delete(key);
    }
  }

  async compactEvents(maxEventsPerRun: number, limit: number): Promise<CompactionCounts> {
    const out: CompactionCounts = { runs: 0, events: 0 };
    for (const [runId, events] of this.eventsByRun) {
      if (out.runs >= limit) break;
      const run = this.runs.get(runId);
      if (!run || isTerminalRun(run.status) || events.length <= maxEventsPerRun) continue;
      out.runs++;
      const firstSeq = new Map<string | null, number>();
      const lastSeq = new Map<string | null, number>();
      for (const e of events) {
        if (!firstSeq.has(e.step)) firstSeq.set(e.step, e.seq!);
        lastSeq.set(e.step, e.seq!);
      }
      let over = events.length - maxEventsPerRun;
      const dropped = new Set<number>();
      for (const e of events) {
        if (over === 0) break;
        if (e.seq === firstSeq.get(e.step) || e.seq === lastSeq.get(e.step)) continue;
        if (!COMPACTABLE_EVENT_TYPES.includes(e.type)) continue;
        dropped.add(e.seq!);
        over--;
      }
      if (!dropped.size) continue;
      out.events += dropped.size;
      this.eventsByRun.set(
        runId,
        events.filter((e) => !dropped.has(e.seq!)),
      );
      this.events = this.events.filter((e) => !dropped.has(e.seq!));
    }
    return out;
  }
}

function waitId(w: WaitRecord): string {
  return `${w.runId}\u0000${w.step}\u0000${w.key}`;
}

/** A parent step's map of children (spawn key -> run id), with the step it belongs to. */
interface SiblingsOf {
  parentRunId: string | null;
  parentStep: string | null;
  siblings: Map<string, string> | undefined;
}

function childKey(parentRunId: string, parentStep: string): string {
  return `${parentRunId}\u0000${parentStep}`;
}

function matchesFilter(run: RunRecord, f: Omit<RunFilter, 'cursor' | 'limit' | 'order' | 'status'>): boolean {
  return (
    (f.workflow === undefined || run.workflow === f.workflow) &&
    (f.parentRunId === undefined || run.parentRunId === f.parentRunId) &&
    (!f.topLevel || run.parentRunId === null) &&
    (f.parentStep === undefined || run.parentStep === f.parentStep) &&
    (f.rootRunId === undefined || run.rootRunId === f.rootRunId) &&
    (f.since === undefined || run.createdAt >= f.since) &&
    (f.until === undefined || run.createdAt < f.until)
  );
}

/** Compares code units, as SQLite's BINARY collation does for ASCII ids (localeCompare would not). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRunsAsc(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || compareText(a.id, b.id);
}

/** Binary search: the index of the first event (or chunk) with seq > afterSeq. */
function firstIndexAfter(events: ReadonlyArray<{ seq?: number }>, afterSeq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.seq! <= afterSeq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Rejects a batch the SQLite store would reject on a NOT NULL column, before anything is applied.
 * Only presence is checked: the engine builds these records, so the types are already right.
 */
// Explicit field lists (not spreads) so extra properties never get stored and undefined reads back as null,
// as it does from SQLite. Each copy checks the record's required fields on the way (see commit).

const RUN_FIELDS = [
  'id',
  'workflow',
  'version',
  'status',
  'input',
  'globals',
  'rootRunId',
  'createdAt',
  'checkpointSeq',
] as const;
const RUN_UPDATE_FIELDS = ['id', 'status', 'globals', 'checkpointSeq'] as const;
const STEP_FIELDS = ['runId', 'name', 'status', 'attempts'] as const;
const EVENT_FIELDS = ['runId', 'type', 'at'] as const;
const CACHE_FIELDS = ['key', 'output', 'createdAt'] as const;
const CHUNK_FIELDS = ['runId', 'step', 'stream', 'attempt', 'data', 'at'] as const;

/** Throws, naming the first of `fields` that `record` (the batch's `what` #i) lacks. Called once a quick check failed. */
function missingField<T extends object>(what: string, i: number, record: T, fields: readonly (keyof T)[]): Error {
  for (const field of fields) {
    if (record[field] === null || record[field] === undefined) {
      return new TypeError(
        `Cannot commit the batch: ${what} #${i} has no ${String(field)}. Nothing was written; fix the record and commit again.`,
      );
    }
  }
  return new TypeError(`Cannot commit the batch: ${what} #${i} is malformed. Nothing was written.`);
}

// `== null` below: null or undefined, the one test a missing field needs.

function copyRun(r: RunRecord, i = 0): RunRecord {
  if (
    r.id == null ||
    r.workflow == null ||
    r.version == null ||
    r.status == null ||
    r.input == null ||
    r.globals == null ||
    r.rootRunId == null ||
    r.createdAt == null ||
    r.checkpointSeq == null
  ) {
    throw missingField('new run', i, r, RUN_FIELDS);
  }
  return {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    input: r.input,
    output: r.output ?? null,
    error: r.error ?? null,
    globals: r.globals,
    idempotencyKey: r.idempotencyKey ?? null,
    parentRunId: r.parentRunId ?? null,
    parentStep: r.parentStep ?? null,
    spawnKey: r.spawnKey ?? null,
    rootRunId: r.rootRunId,
    concurrencyKey: r.concurrencyKey ?? null,
    replayOf: r.replayOf ?? null,
    createdAt: r.createdAt,
    startedAt: r.startedAt ?? null,
    finishedAt: r.finishedAt ?? null,
    deadlineAt: r.deadlineAt ?? null,
    checkpointSeq: r.checkpointSeq,
    wakeAt: r.wakeAt ?? null,
    pausedAt: r.pausedAt ?? null,
    priority: r.priority ?? 0,
  };
}

function checkRunUpdate(u: RunUpdate, i: number): void {
  if (u.id == null || u.status == null || u.globals == null || u.checkpointSeq == null) {
    throw missingField('run update', i, u, RUN_UPDATE_FIELDS);
  }
}

/** Writes an update's fields onto the stored run (values only: nothing of the caller's object is kept). */
function applyRunUpdate(run: RunRecord, u: RunUpdate): void {
  run.status = u.status;
  run.output = u.output ?? null;
  run.error = u.error ?? null;
  run.startedAt = u.startedAt ?? null;
  run.finishedAt = u.finishedAt ?? null;
  run.deadlineAt = u.deadlineAt ?? null;
  run.globals = u.globals;
  run.checkpointSeq = u.checkpointSeq;
  run.wakeAt = u.wakeAt ?? null;
  run.pausedAt = u.pausedAt ?? null;
}

function copyStep(s: StepRecord, i = 0): StepRecord {
  if (s.runId == null || s.name == null || s.status == null || s.attempts == null) {
    throw missingField('step', i, s, STEP_FIELDS);
  }
  return {
    runId: s.runId,
    name: s.name,
    status: s.status,
    attempts: s.attempts,
    output: s.output ?? null,
    error: s.error ?? null,
    startedAt: s.startedAt ?? null,
    finishedAt: s.finishedAt ?? null,
    nextAttemptAt: s.nextAttemptAt ?? null,
    route: s.route ?? null,
    cacheHit: Boolean(s.cacheHit),
    fallbackUsed: Boolean(s.fallbackUsed),
  };
}

function copyEvent(e: EventRecord, i: number): EventRecord {
  if (e.runId == null || e.type == null || e.at == null) throw missingField('event', i, e, EVENT_FIELDS);
  return readEvent(e);
}

/** A copy of a stored event, for a reader. */
function readEvent(e: EventRecord): EventRecord {
  const copy: EventRecord = {
    runId: e.runId,
    step: e.step ?? null,
    type: e.type,
    at: e.at,
    attempt: e.attempt ?? null,
    data: e.data ?? null,
  };
  if (e.seq !== undefined) copy.seq = e.seq;
  return copy;
}

function copyCacheEntry(c: CacheEntry, i = 0): CacheEntry {
  if (c.key == null || c.output == null || c.createdAt == null) throw missingField('cache entry', i, c, CACHE_FIELDS);
  return { key: c.key, output: c.output, createdAt: c.createdAt, expiresAt: c.expiresAt ?? null };
}

function copyFork(fork: ForkRecord): ForkRecord {
  return { ...fork, reusedSteps: [...fork.reusedSteps], overriddenSteps: [...fork.overriddenSteps] };
}

function copyChunk(c: StreamChunk, i: number): StreamChunk {
  if (c.runId == null || c.step == null || c.stream == null || c.attempt == null || c.data == null || c.at == null) {
    throw missingField('stream chunk', i, c, CHUNK_FIELDS);
  }
  return readChunk(c);
}

/** A copy of a stored chunk, for a reader. */
function readChunk(c: StreamChunk): StreamChunk {
  const copy: StreamChunk = {
    runId: c.runId,
    step: c.step,
    stream: c.stream,
    attempt: c.attempt,
    data: c.data,
    at: c.at,
  };
  if (c.seq !== undefined) copy.seq = c.seq;
  return copy;
}

/** (wakeAt, id) order: the order of the wake-up scan and its cursor. */
function compareWake(a: WakeCursor | RunRecord, b: WakeCursor | RunRecord): number {
  return (a.wakeAt as number) - (b.wakeAt as number) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
