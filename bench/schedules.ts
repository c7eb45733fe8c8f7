/**
 * The `schedules 10k` row: registers 10,000 schedules of W1's workflow (each its own minute of the
 * day, so none fires during the row) through `executor.createSchedule`, and reports how long that
 * took, the heap it added, and the Node timers pending before and after: schedules are rows with a
 * due time, and the executor keeps ONE timer for the earliest of them, so the count must not grow
 * with the number of schedules.
 */
import type { WorkflowExecutor } from '../src/index.js';
import type { Figures } from './workloads.js';

/** Node timers pending in this process (setTimeout / setInterval handles). */
const pendingTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function schedulesRegistered(executor: WorkflowExecutor, count: number): Promise<Figures> {
  await executor.open();
  globalThis.gc?.();
  const timersBefore = pendingTimers();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    // Minute i of the day (at most 1440), on day-of-month i / 1440 + 1: never one in the next minutes.
    const minute = i % 1440;
    await executor.createSchedule({
      workflow: 'w1-one',
      id: `bench-${i}`,
      cron: `${minute % 60} ${Math.floor(minute / 60)} ${(Math.floor(i / 1440) % 28) + 1} * *`,
      input: { x: i },
    });
  }
  const registerMs = performance.now() - t0;
  await executor.schedulesIdle();
  globalThis.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const listed = (await executor.listSchedules()).filter((s) => s.id.startsWith('bench-')).length;
  if (listed !== count) throw new Error(`${listed} schedules stored, not ${count}`);
  const timersAfter = pendingTimers();
  // One scheduler timer at most, whatever `count` (the engine's own timers are counted in `before`).
  if (timersAfter > timersBefore + 1) {
    throw new Error(`${timersAfter - timersBefore} timers more after ${count} schedules: expected at most 1`);
  }
  return {
    schedules: count,
    registerMs,
    perScheduleUs: (registerMs * 1000) / count,
    heapMbAdded: (heapAfter - heapBefore) / 2 ** 20,
    timersBefore,
    timersAfter,
  };
}
