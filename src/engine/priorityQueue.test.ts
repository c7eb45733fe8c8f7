import { describe, expect, it } from 'vitest';
import { PriorityQueue } from './priorityQueue.js';

const takeAll = <T>(queue: PriorityQueue<T>): T[] => {
  const out: T[] = [];
  for (let item = queue.take(); item !== undefined; item = queue.take()) out.push(item);
  return out;
};

describe('PriorityQueue', () => {
  it('takes by priority, then arrival', () => {
    const queue = new PriorityQueue<string>(1000);
    queue.push('low-1', 0);
    queue.push('high-1', 5);
    queue.push('low-2', 0);
    queue.push('urgent', 9);
    queue.push('high-2', 5);
    expect(takeAll(queue)).toEqual(['urgent', 'high-1', 'high-2', 'low-1', 'low-2']);
    expect(queue.size).toBe(0);
  });

  it('gives every Nth take to the oldest waiter, so a steady stream of high priority cannot starve low priority', () => {
    const queue = new PriorityQueue<string>(4);
    queue.push('low', -10);
    const order: string[] = [];
    // A stream: one new high-priority item arrives for every one taken.
    for (let i = 0; i < 12 && !order.includes('low'); i++) {
      queue.push(`high-${i}`, 10);
      order.push(queue.take() as string);
    }
    expect(order).toEqual(['high-0', 'high-1', 'high-2', 'low']);
  });

  it('passes over kept items without losing their place, and drops the dropped ones', () => {
    const queue = new PriorityQueue<string>(1000);
    queue.push('blocked', 9);
    queue.push('stale', 8);
    queue.push('a', 1);
    queue.push('b', 1);
    const seen: string[] = [];
    queue.drain((item) => {
      seen.push(item);
      if (item === 'blocked') return 'keep';
      if (item === 'stale') return 'drop';
      return item === 'b' ? 'stop' : 'take';
    });
    expect(seen).toEqual(['blocked', 'stale', 'a', 'b']);
    expect(queue.items()).toEqual(['blocked', 'b']);
    expect(takeAll(queue)).toEqual(['blocked', 'b']);
  });

  it('removes an entry without a scan', () => {
    const queue = new PriorityQueue<string>();
    const gone = queue.push('gone', 5);
    queue.push('stays', 1);
    queue.remove(gone);
    expect(queue.size).toBe(1);
    expect(takeAll(queue)).toEqual(['stays']);
  });
});
