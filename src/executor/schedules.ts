import type { ClockTimer } from '../engine/clock.js';
import type { Engine } from '../engine/engine.js';
import {
  BraidError,
  InvalidScheduleError,
  ScheduleChangedError,
  ScheduleExistsError,
  ScheduleNotFoundError,
} from '../model/errors.js';
import { fromJson, toJson } from '../model/json.js';
import {
  checkSchedule,
  nextFireAfter,
  previousFireBefore,
  type Schedule,
  type ScheduleOptions,
  type ScheduleSpec,
  scheduleRunKey,
  tickJitterMs,
} from '../model/schedule.js';
import { validateInput } from '../model/schema.js';
import type { Store } from '../store/store.js';
import {
  isTerminalRun,
  type ScheduleRecord,
  type ScheduleSkipReason,
  type ScheduleTickRecord,
  type ScheduleTickSource,
  type ScheduleWrite,
} from '../store/types.js';

/** A schedule created at run time (API, CLI): `schedule()`'s options plus the workflow's name. */
export interface CreateScheduleOptions extends ScheduleOptions<unknown> {
  workflow: string;
}

/** How long a process holds the schedules it claimed: another takes them over if it dies. */
const LEASE_MS = 30_000;
/** Schedules claimed per store round trip. */
const CLAIM_BATCH = 100;
/** While ticks are buffered behind a run another process runs, how often to look whether it ended. */
const BUFFER_RECHECK_MS = 1_000;
/** After a pass that left something due (another process holds it, a write failed), look again after this. */
const RETRY_MS = 500;
/**
 * In a cluster, schedules other processes create are noticed within this (no notification for
 * them yet); a single process knows every schedule it has.
 */
const CLUSTER_POLL_MS = 5_000;
/** The lease owner on a single-process store. */
const LOCAL_OWNER = 'local';
/** Missed ticks older than the catch-up window recorded one by one, at most (the rest are passed over). */
const MAX_SKIPPED_RECORDED = 1_000;

/**
 * Fires schedules. Their state lives in the store; this keeps ONE timer (through the engine's
 * clock, corrected by the offset to the database's clock on PostgreSQL, which decides what is due)
 * for the earliest `dueAt` of all of them, whatever their number. When it fires, due
 * schedules are claimed (a lease; SKIP LOCKED on PostgreSQL) and each due tick is handled with a
 * write that compare-and-sets the schedule's version: a tick that starts a run is written in the
 * commit that creates the run (its idempotency key names the schedule and the scheduled time), so
 * a tick is never lost and never doubled, whatever crashes or races.
 */
export class Schedules {
  private timer: ClockTimer | undefined;
  /** When the timer fires (Infinity: not armed). */
  private armedFor = Number.POSITIVE_INFINITY;
  private pass: Promise<void> | undefined;
  private again = false;
  private firing = false;
  private closed = false;
  private stopListening: (() => void) | undefined;
  /** Runs a schedule started (by run id: the schedule's id): their end lets a buffered tick start at once. */
  private readonly blockingRuns = new Map<string, string>();
  /** Schedules whose last run has just ended here: looked at on the next pass, due or not. */
  private readonly released = new Set<string>();
  /**
   * How far the store's clock is ahead of the engine's (0 unless the store usesDatabaseClock):
   * measured at each claim, so the due times computed here and the one timer follow the database.
   */
  private clockOffsetMs = 0;

  constructor(
    private readonly store: Store,
    private readonly engine: Engine,
    private readonly options: {
      /** Another process shares the store: look for schedules it created now and then. */
      isCluster: () => boolean;
      /** This process's id among workers (the lease owner), if it is one. */
      workerId: () => string | null;
      cancelRun: (runId: string, reason: string) => Promise<unknown>;
    },
  ) {}

  /** Starts firing: handles what is due now and arms the timer. */
  async start(): Promise<void> {
    this.firing = true;
    this.stopListening = this.engine.onCommitted((events) => {
      // Every commit's events pass here: most processes have no run holding a schedule back.
      if (!this.blockingRuns.size) return;
      for (const e of events) {
        const scheduleId = isEndEvent(e.type) ? this.blockingRuns.get(e.runId) : undefined;
        if (scheduleId === undefined) continue;
        this.blockingRuns.delete(e.runId);
        this.released.add(scheduleId);
        this.kick();
      }
    });
    this.kick();
    await this.idle();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.stopListening?.();
    await this.pass?.catch(() => {});
    if (this.firing && this.options.isCluster()) await this.releaseClaims().catch(() => {});
  }

  /**
   * Hands the schedules this worker holds back, so another worker takes their next tick at once
   * instead of after the lease (30 s). A write that loses its compare-and-set was taken over anyway.
   */
  private async releaseClaims(): Promise<void> {
    const owner = this.options.workerId();
    if (!owner) return;
    for (const s of await this.store.listSchedules()) {
      if (s.claimedBy !== owner) continue;
      const released = { ...s, claimedBy: null, claimedUntil: null, version: s.version + 1 };
      await this.store.writeSchedule({ schedule: released, expectedVersion: s.version, ticks: [] }).catch(() => {});
    }
  }

  /** Resolves once no pass is running (tests: the ticks due now have been handled). */
  async idle(): Promise<void> {
    while (this.pass) await this.pass.catch(() => {});
  }

  /** Schedules defined in code: created when missing, their definition updated when it changed. */
  async define(schedules: readonly Schedule<any>[]): Promise<void> {
    if (schedules.length) await this.readStoreClock();
    for (const s of schedules) {
      this.engine.register(s.workflow);
      await this.upsert(s.spec, true);
    }
  }

  async create(options: CreateScheduleOptions): Promise<ScheduleRecord> {
    if (!options || typeof options.workflow !== 'string' || !this.engine.registry.has(options.workflow)) {
      throw new InvalidScheduleError(
        String(options?.id ?? options?.workflow),
        'workflow',
        `the name of a registered workflow (${this.engine.registry.names().join(', ') || 'none registered'})`,
        options?.workflow,
      );
    }
    const spec = checkSchedule(options.workflow, options);
    await this.readStoreClock();
    return this.upsert(spec, false);
  }

  async get(id: string): Promise<ScheduleRecord> {
    const s = await this.store.getSchedule(id);
    if (!s) throw new ScheduleNotFoundError(id);
    return s;
  }

  list(): Promise<ScheduleRecord[]> {
    return this.store.listSchedules();
  }

  ticks(id: string, limit?: number): Promise<ScheduleTickRecord[]> {
    return this.store.listScheduleTicks(id, limit);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteSchedule(id))) throw new ScheduleNotFoundError(id);
    this.kick();
  }

  /** No tick starts until `resume`; a run it started goes on. */
  pause(id: string): Promise<ScheduleRecord> {
    return this.change(id, (s, now) => ({
      schedule: { ...s, paused: true, dueAt: null, updatedAt: now },
      ticks: [],
    }));
  }

  /**
   * Ticks start again. Those that passed while it was paused are recorded as skipped (`paused`);
   * the next one is the first scheduled time from now on.
   */
  resume(id: string): Promise<ScheduleRecord> {
    return this.change(id, (s, now) => {
      if (!s.paused) return { schedule: s, ticks: [] };
      const ticks: ScheduleTickRecord[] = [];
      let next = s.nextFireAt;
      while (next !== null && next < now) {
        if (ticks.length < MAX_SKIPPED_RECORDED) ticks.push(skippedTick(s.id, next, 'paused', now));
        else {
          next = nextFireAfter(s.cron, s.timezone, now - 1);
          break;
        }
        next = nextFireAfter(s.cron, s.timezone, next);
      }
      const last = ticks.at(-1)?.scheduledAt ?? s.lastScheduledAt;
      const resumed = { ...s, paused: false, nextFireAt: next, lastScheduledAt: last, updatedAt: now };
      return { schedule: { ...resumed, dueAt: dueAtOf(resumed, now, false) }, ticks };
    });
  }

  /**
   * Starts a run of the schedule now (its scheduled time is now), whatever the overlap policy and
   * even while paused. Resolves with the run's id once it is durable.
   */
  async trigger(id: string): Promise<string> {
    await this.readStoreClock();
    for (;;) {
      const s = await this.get(id);
      const now = this.now();
      try {
        return await this.startRun(s, now, 'trigger', s.lastScheduledAt, (rec) => rec);
      } catch (error) {
        if (!(error instanceof ScheduleChangedError)) throw error;
      }
    }
  }

  /**
   * Starts a run for every scheduled time in [from, to] that has no tick recorded yet, oldest first,
   * whatever the overlap policy (a backfill asks for them all). Resolves with their run ids.
   */
  async backfill(id: string, from: Date | number, to: Date | number): Promise<string[]> {
    const fromMs = typeof from === 'number' ? from : from.getTime();
    const toMs = typeof to === 'number' ? to : to.getTime();
    if (!Number.isFinite(fromMs)) throw new InvalidScheduleError(id, 'from', 'a date', from);
    if (!Number.isFinite(toMs) || toMs < fromMs)
      throw new InvalidScheduleError(id, 'to', `a date not before "from"`, to);
    const first = await this.get(id);
    const times: number[] = [];
    for (let t = nextFireAfter(first.cron, first.timezone, fromMs - 1); t !== null && t <= toMs; ) {
      times.push(t);
      if (times.length > 10_000) {
        throw new InvalidScheduleError(id, 'to', 'at most 10,000 ticks after "from" (backfill in parts)', to);
      }
      t = nextFireAfter(first.cron, first.timezone, t);
    }
    const recorded = new Set((await this.store.listScheduleTicks(id, 1000)).map((t) => t.scheduledAt));
    const runIds: string[] = [];
    for (const t of times) {
      if (recorded.has(t)) continue;
      for (;;) {
        const s = await this.get(id);
        try {
          const previous = previousFireBefore(s.cron, s.timezone, t);
          runIds.push(await this.startRun(s, t, 'backfill', previous, (rec) => rec));
          break;
        } catch (error) {
          if (!(error instanceof ScheduleChangedError)) throw error;
        }
      }
    }
    return runIds;
  }

  // ---------------------------------------------------------------------------------------------
  // Firing

  /** Runs a pass now, or right after the one running. */
  private kick(): void {
    if (this.closed || !this.firing) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPass().finally(() => {
      this.pass = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async runPass(): Promise<void> {
    // One executor at a time per single-process store (SQLite's lock): every process there is the
    // same owner, so a restart does not wait out the lease of the process it replaces.
    const owner = this.options.workerId() ?? LOCAL_OWNER;
    let leftDue = false;
    try {
      for (const id of [...this.released]) {
        this.released.delete(id);
        const s = await this.store.getSchedule(id);
        if (!s?.buffered.length || s.paused || this.closed) continue;
        try {
          await this.handle(s, this.now(), true);
        } catch (error) {
          leftDue = true;
          if (!(error instanceof ScheduleChangedError)) {
            console.error(`[braid] schedule "${s.id}": starting a buffered tick failed; trying again shortly:`, error);
          }
        }
      }
      for (;;) {
        const before = this.engine.clock.now();
        // Only schedules of workflows registered here: another process runs the others. On
        // PostgreSQL the claim judges what is due by the database's clock and says what time that
        // was: the ticks are handled by it, whatever this host's clock says.
        const claim = await this.store.claimDueSchedules(
          before + this.clockOffsetMs,
          owner,
          LEASE_MS,
          CLAIM_BATCH,
          this.engine.registry.names(),
        );
        if (this.store.usesDatabaseClock) this.noteStoreClock(claim.now, before, this.engine.clock.now());
        const { now, schedules: due } = claim;
        for (const s of due) {
          if (this.closed) return;
          try {
            await this.handle(s, now);
          } catch (error) {
            leftDue = true;
            if (!(error instanceof ScheduleChangedError)) {
              console.error(`[braid] schedule "${s.id}": handling a tick failed; trying again shortly:`, error);
            }
          }
        }
        if (due.length < CLAIM_BATCH) break;
      }
    } catch (error) {
      // The store is away (a lost connection, a restarting server): nothing was claimed or started.
      // Look again shortly; rejecting here would be an unhandled rejection, which ends the process.
      leftDue = true;
      if (!this.closed) console.error('[braid] could not look for due schedules; trying again shortly:', error);
    } finally {
      if (!this.closed)
        await this.arm(leftDue).catch((error) => {
          console.error('[braid] could not read when the next schedule is due:', error);
          this.armAt(this.now() + RETRY_MS);
        });
    }
  }

  private async arm(leftDue: boolean): Promise<void> {
    const now = this.now();
    const next = await this.store.nextScheduleDueAt(this.engine.registry.names());
    let at = next === null ? Number.POSITIVE_INFINITY : next;
    // Fell due during this pass (the clock moved on meanwhile): handle it now. In a single process
    // every due schedule can be claimed, so this does not spin.
    if (at <= now && !leftDue && !this.options.isCluster()) {
      this.again = true;
      return;
    }
    // Due but not handled (another process holds it, or it failed): look again shortly, not at once.
    if (at <= now || leftDue) at = Math.max(at, now + RETRY_MS);
    if (this.options.isCluster()) at = Math.min(at, now + CLUSTER_POLL_MS);
    this.armAt(at);
  }

  /** Arms the one timer for `at`, a time on the store's clock (the engine's, corrected by the offset). */
  private armAt(at: number): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (this.closed || at === Number.POSITIVE_INFINITY) return;
    const clock = this.engine.clock;
    this.armedFor = at;
    this.timer = clock.setTimer(() => {
      this.timer = undefined;
      this.armedFor = Number.POSITIVE_INFINITY;
      this.kick();
    }, at - this.now());
  }

  /** Now on the store's clock: the engine's, plus the offset measured against a database clock. */
  private now(): number {
    return this.engine.clock.now() + this.clockOffsetMs;
  }

  /**
   * On a store that usesDatabaseClock, measures how far the database's clock is from the engine's,
   * before computing times from "now" (a schedule's first tick, a resume, a trigger). One round trip.
   */
  private async readStoreClock(): Promise<void> {
    if (!this.store.usesDatabaseClock || !this.store.readDatabaseClock) return;
    const before = this.engine.clock.now();
    const storeNow = await this.store.readDatabaseClock();
    this.noteStoreClock(storeNow, before, this.engine.clock.now());
  }

  /** The database read `storeNow` between the engine's `before` and `after`: taken as their midpoint. */
  private noteStoreClock(storeNow: number, before: number, after: number): void {
    if (Number.isFinite(storeNow)) this.clockOffsetMs = storeNow - Math.round((before + after) / 2);
  }

  /**
   * A schedule was stored due at `dueAt`: a pass only when that is before the timer (registering
   * 10,000 schedules far apart costs no pass each).
   */
  private noticeDue(dueAt: number | null): void {
    if (dueAt !== null && (dueAt < this.armedFor || !this.timer)) this.kick();
  }

  /** Handles every tick of `s` due at `now`, one compare-and-set write each. */
  private async handle(claimed: ScheduleRecord, now: number, force = false): Promise<void> {
    let s = claimed;
    for (let guard = 0; (force && guard === 0) || (s.dueAt !== null && s.dueAt <= now && guard < 10_000); guard++) {
      s = await this.step(s, now);
    }
  }

  /** One decision for a due schedule: start a buffered tick, handle the next cron tick, or recompute when due. */
  private async step(s: ScheduleRecord, now: number): Promise<ScheduleRecord> {
    const running = await this.lastRunRunning(s);
    if (s.buffered.length && !running && !s.paused) {
      const [first, ...rest] = s.buffered as [number, ...number[]];
      const previous = previousFireBefore(s.cron, s.timezone, first);
      const start = { ...s, buffered: rest };
      await this.startRun(s, first, 'cron', previous, () => start);
      return this.reread(s.id);
    }
    const fireAt = s.nextFireAt === null ? null : s.nextFireAt + tickJitterMs(s.id, s.nextFireAt, s.jitterMs);
    if (s.paused || s.nextFireAt === null || fireAt === null || fireAt > now) {
      // Nothing to fire (a buffered tick behind a running run): only when to look again.
      const schedule = { ...s, dueAt: dueAtOf(s, now, running), version: s.version + 1, updatedAt: now };
      if (running && s.lastRunId) this.blockingRuns.set(s.lastRunId, s.id);
      await this.store.writeSchedule({ schedule, expectedVersion: s.version, ticks: [] });
      return schedule;
    }
    const t = s.nextFireAt;
    const advanced = { ...s, nextFireAt: nextFireAfter(s.cron, s.timezone, t), lastScheduledAt: t };
    if (now - t > s.catchupWindowMs) return this.skipMissed(s, now);
    if (!running || s.overlap === 'allow_all') {
      await this.startRun(s, t, 'cron', s.lastScheduledAt, () => advanced);
      return this.reread(s.id);
    }
    switch (s.overlap) {
      case 'cancel_other':
        await this.options.cancelRun(s.lastRunId as string, `schedule "${s.id}": the tick of ${iso(t)} replaces it`);
        await this.startRun(s, t, 'cron', s.lastScheduledAt, () => advanced);
        return this.reread(s.id);
      case 'buffer_all':
      case 'buffer_one':
        if (s.overlap === 'buffer_all' || !s.buffered.length) {
          this.blockingRuns.set(s.lastRunId as string, s.id);
          const buffered = { ...advanced, buffered: [...s.buffered, t] };
          return this.write(s, buffered, now, [{ ...tickOf(s.id, t, 'cron', now), status: 'buffered' }], true);
        }
        return this.write(s, advanced, now, [skippedTick(s.id, t, 'overlap', now)], running);
      default:
        return this.write(s, advanced, now, [skippedTick(s.id, t, 'overlap', now)], running);
    }
  }

  /** Ticks older than the catch-up window: each recorded as skipped, and the schedule moved past them. */
  private skipMissed(s: ScheduleRecord, now: number): Promise<ScheduleRecord> {
    const ticks: ScheduleTickRecord[] = [];
    let t: number | null = s.nextFireAt;
    while (t !== null && now - t > s.catchupWindowMs) {
      if (ticks.length >= MAX_SKIPPED_RECORDED) {
        // Passed over unrecorded beyond this many: jump to the window's start.
        t = nextFireAfter(s.cron, s.timezone, now - s.catchupWindowMs - 1);
        break;
      }
      ticks.push(skippedTick(s.id, t, 'catchup_window', now));
      t = nextFireAfter(s.cron, s.timezone, t);
    }
    const last = ticks.at(-1)?.scheduledAt ?? s.lastScheduledAt;
    return this.write(s, { ...s, nextFireAt: t, lastScheduledAt: last }, now, ticks, false);
  }

  private async write(
    before: ScheduleRecord,
    after: ScheduleRecord,
    now: number,
    ticks: ScheduleTickRecord[],
    running: boolean,
  ): Promise<ScheduleRecord> {
    const schedule = { ...after, dueAt: dueAtOf(after, now, running), version: before.version + 1, updatedAt: now };
    await this.store.writeSchedule({ schedule, expectedVersion: before.version, ticks });
    return schedule;
  }

  /**
   * Starts the run of tick `t`: the schedule's new state (`after` the tick) and the tick's record
   * are written in the commit that creates the run. A run that already holds the tick's key (a
   * retry after the commit landed but its answer was lost) is recorded, not started again.
   */
  private async startRun(
    s: ScheduleRecord,
    t: number,
    source: ScheduleTickSource,
    previous: number | null,
    after: (s: ScheduleRecord) => ScheduleRecord,
  ): Promise<string> {
    const now = this.now();
    const key = scheduleRunKey(s.id, t, previous);
    const writeFor = (runId: string): ScheduleWrite => {
      const next = { ...after(s), lastRunId: runId };
      return {
        schedule: { ...next, dueAt: dueAtOf(next, now, true), version: s.version + 1, updatedAt: now },
        expectedVersion: s.version,
        ticks: [{ ...tickOf(s.id, t, source, now), runId }],
      };
    };
    const existing = await this.store.findRunByIdempotencyKey(key);
    if (existing) {
      await this.store.writeSchedule(writeFor(existing.id));
      return existing.id;
    }
    const runId = await this.engine.createScheduledRun(s.workflow, fromJson(s.input), key, writeFor);
    if (this.firing && s.overlap !== 'allow_all') this.blockingRuns.set(runId, s.id);
    return runId;
  }

  private async reread(id: string): Promise<ScheduleRecord> {
    const s = await this.store.getSchedule(id);
    // Deleted meanwhile: nothing is due any more.
    return s ?? ({ dueAt: null } as ScheduleRecord);
  }

  /** Whether the schedule's last run has not ended (queued, running, waiting or paused). */
  private async lastRunRunning(s: ScheduleRecord): Promise<boolean> {
    if (!s.lastRunId) return false;
    const run = await this.engine.runRecord(s.lastRunId);
    return run !== undefined && !isTerminalRun(run.status);
  }

  /** Applies `change` to the stored schedule with a compare-and-set, reading again when another write won. */
  private async change(
    id: string,
    change: (s: ScheduleRecord, now: number) => { schedule: ScheduleRecord; ticks: ScheduleTickRecord[] },
  ): Promise<ScheduleRecord> {
    await this.readStoreClock();
    for (;;) {
      const s = await this.get(id);
      const now = this.now();
      const { schedule, ticks } = change(s, now);
      if (schedule === s) return s;
      const next = { ...schedule, version: s.version + 1 };
      try {
        await this.store.writeSchedule({ schedule: next, expectedVersion: s.version, ticks });
        this.kick();
        return next;
      } catch (error) {
        if (!(error instanceof ScheduleChangedError)) throw error;
      }
    }
  }

  /**
   * Stores a checked definition: a new schedule, or (`fromCode`) the new definition of an existing
   * one, keeping its progress and paused state; when its cron or time zone changed, the next tick
   * is computed again from now.
   */
  private async upsert(spec: ScheduleSpec, fromCode: boolean): Promise<ScheduleRecord> {
    const plan = this.engine.registry.planFor(spec.workflow);
    const parsed = await validateInput(spec.workflow, plan.workflow.options.input, spec.input);
    const input = toJson(parsed, `The input of schedule "${spec.id}"`);
    for (;;) {
      const now = this.now();
      const existing = await this.store.getSchedule(spec.id);
      if (existing && !fromCode) throw new ScheduleExistsError(spec.id);
      const definition = {
        workflow: spec.workflow,
        cron: spec.cron,
        timezone: spec.timezone,
        input,
        overlap: spec.overlap,
        catchupWindowMs: spec.catchupWindowMs,
        jitterMs: spec.jitterMs,
      };
      let schedule: ScheduleRecord;
      if (existing) {
        if (Object.entries(definition).every(([k, v]) => existing[k as keyof typeof definition] === v)) return existing;
        const retimed = existing.cron !== spec.cron || existing.timezone !== spec.timezone;
        const next = { ...existing, ...definition, updatedAt: now, version: existing.version + 1 };
        if (retimed) next.nextFireAt = nextFireAfter(spec.cron, spec.timezone, now);
        schedule = { ...next, dueAt: next.paused ? null : dueAtOf(next, now, false) };
      } else {
        const fresh: ScheduleRecord = {
          id: spec.id,
          ...definition,
          paused: spec.paused,
          nextFireAt: nextFireAfter(spec.cron, spec.timezone, now),
          dueAt: null,
          lastScheduledAt: null,
          lastRunId: null,
          buffered: [],
          claimedBy: null,
          claimedUntil: null,
          version: 1,
          createdAt: now,
          updatedAt: now,
        };
        schedule = { ...fresh, dueAt: fresh.paused ? null : dueAtOf(fresh, now, false) };
      }
      try {
        await this.store.writeSchedule({ schedule, expectedVersion: existing ? existing.version : null, ticks: [] });
        this.noticeDue(schedule.dueAt);
        return schedule;
      } catch (error) {
        // Another process defined or fired it first: read it again.
        if (!(error instanceof BraidError) || !['schedule_changed', 'schedule_exists'].includes(error.code))
          throw error;
        if (!fromCode && error.code === 'schedule_exists') throw error;
      }
    }
  }
}

/**
 * When a schedule needs attention next: its next tick plus that tick's jitter; sooner while a tick
 * is buffered (at once when the run it waits behind has ended, else a recheck); never when paused.
 */
function dueAtOf(s: ScheduleRecord, now: number, running: boolean): number | null {
  if (s.paused) return null;
  const fire = s.nextFireAt === null ? null : s.nextFireAt + tickJitterMs(s.id, s.nextFireAt, s.jitterMs);
  if (!s.buffered.length) return fire;
  const buffered = running ? now + BUFFER_RECHECK_MS : now;
  return fire === null ? buffered : Math.min(fire, buffered);
}

function tickOf(scheduleId: string, scheduledAt: number, source: ScheduleTickSource, at: number): ScheduleTickRecord {
  return { scheduleId, scheduledAt, status: 'started', reason: null, runId: null, source, at };
}

function skippedTick(
  scheduleId: string,
  scheduledAt: number,
  reason: ScheduleSkipReason,
  at: number,
): ScheduleTickRecord {
  return { scheduleId, scheduledAt, status: 'skipped', reason, runId: null, source: 'cron', at };
}

const END_EVENTS = new Set(['run_succeeded', 'run_failed', 'run_cancelled', 'run_timed_out']);
const isEndEvent = (type: string): boolean => END_EVENTS.has(type);

const iso = (ms: number): string => new Date(ms).toISOString();
