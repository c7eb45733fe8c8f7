import { ScheduleChangedError, ScheduleExistsError } from '../../model/errors.js';
import type { ScheduleRecord, ScheduleTickRecord, ScheduleWrite } from '../types.js';

const copySchedule = (s: ScheduleRecord): ScheduleRecord => ({ ...s, buffered: [...s.buffered] });

/** The memory store's schedules and ticks, with the same compare-and-set rules as the SQL stores. */
export class MemorySchedules {
  private readonly schedules = new Map<string, ScheduleRecord>();
  /** schedule id -> scheduled time -> tick. */
  private readonly ticks = new Map<string, Map<number, ScheduleTickRecord>>();

  /** Throws (ScheduleChangedError / ScheduleExistsError) unless every write applies; changes nothing. */
  check(writes: readonly ScheduleWrite[]): void {
    for (const w of writes) {
      const current = this.schedules.get(w.schedule.id);
      if (w.expectedVersion === null) {
        if (current) throw new ScheduleExistsError(w.schedule.id);
      } else if (current?.version !== w.expectedVersion) {
        throw new ScheduleChangedError(w.schedule.id, w.expectedVersion);
      }
    }
  }

  /** Applies writes `check` accepted. */
  apply(writes: readonly ScheduleWrite[]): void {
    for (const w of writes) {
      this.schedules.set(w.schedule.id, copySchedule(w.schedule));
      let byTime = this.ticks.get(w.schedule.id);
      if (!byTime) {
        byTime = new Map();
        this.ticks.set(w.schedule.id, byTime);
      }
      for (const tick of w.ticks) byTime.set(tick.scheduledAt, { ...tick });
    }
  }

  get(id: string): ScheduleRecord | undefined {
    const s = this.schedules.get(id);
    return s && copySchedule(s);
  }

  list(): ScheduleRecord[] {
    return [...this.schedules.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copySchedule);
  }

  delete(id: string): boolean {
    this.ticks.delete(id);
    return this.schedules.delete(id);
  }

  listTicks(id: string, limit = 100): ScheduleTickRecord[] {
    const ticks = [...(this.ticks.get(id)?.values() ?? [])].sort((a, b) => b.scheduledAt - a.scheduledAt);
    return ticks.slice(0, limit).map((t) => ({ ...t }));
  }

  nextDueAt(workflows: readonly string[]): number | null {
    let earliest: number | null = null;
    for (const s of this.schedules.values()) {
      if (!workflows.includes(s.workflow)) continue;
      if (s.dueAt !== null && (earliest === null || s.dueAt < earliest)) earliest = s.dueAt;
    }
    return earliest;
  }

  claimDue(now: number, owner: string, leaseMs: number, limit: number, workflows: readonly string[]): ScheduleRecord[] {
    const due = [...this.schedules.values()]
      .filter(
        (s) =>
          workflows.includes(s.workflow) &&
          s.dueAt !== null &&
          s.dueAt <= now &&
          (s.claimedBy === null || s.claimedBy === owner || (s.claimedUntil ?? 0) <= now),
      )
      .sort((a, b) => (a.dueAt as number) - (b.dueAt as number))
      .slice(0, limit);
    for (const s of due) {
      s.claimedBy = owner;
      s.claimedUntil = now + leaseMs;
    }
    return due.map(copySchedule);
  }
}
