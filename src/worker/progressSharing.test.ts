import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Coordination } from '../store/coordination.js';
import { ProgressSharing, readProgressNotice } from './progressSharing.js';

describe('ProgressSharing', () => {
  let sent: string[];
  let sharing: ProgressSharing;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    const coordination = {
      shareProgress: async (payload: string) => {
        sent.push(payload);
      },
    } as unknown as Coordination;
    sharing = new ProgressSharing(coordination);
  });

  afterEach(() => {
    sharing.stop();
    vi.useRealTimers();
  });

  it('sends the first report at once, then at most one per 200 ms per step, always ending with the latest', () => {
    for (let i = 0; i < 100; i++) sharing.report('r', 's', i, 1_000 + i);
    sharing.report('r', 'other', 'x', 5);
    expect(sent.map((p) => readProgressNotice(p)?.value)).toEqual([0, 'x']);
    vi.advanceTimersByTime(200);
    expect(sent.map((p) => readProgressNotice(p)?.value)).toEqual([0, 'x', 99]);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(3);
    expect(readProgressNotice(sent[2]!)).toEqual({ runId: 'r', step: 's', at: 1_099, value: 99 });
  });

  it('sends a placeholder for a value too large for a notice, and ignores notices it cannot read', () => {
    sharing.report('r', 's', 'x'.repeat(10_000), 1);
    expect(readProgressNotice(sent[0]!)?.value).toContain('too large');
    expect(readProgressNotice('not json')).toBeUndefined();
    expect(readProgressNotice('[1, 2, 3]')).toBeUndefined();
  });
});
