import { describe, expect, it } from 'vitest';
import { newRunId } from './ids.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

describe('newRunId', () => {
  it('is 26 Crockford base32 characters, strictly increasing within one millisecond', () => {
    const ms = Date.now() + 10_000_000;
    const ids = Array.from({ length: 1000 }, () => newRunId(ms));
    for (const id of ids) expect(id).toMatch(ULID);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stays increasing and unique across more new milliseconds than one draw of random bytes covers', () => {
    // 256 ids per refill of the random pool: 2,000 milliseconds go through it several times.
    const start = Date.now() + 20_000_000;
    const ids: string[] = [];
    for (let ms = start; ms < start + 2000; ms++) ids.push(newRunId(ms), newRunId(ms));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    // Each millisecond starts from fresh random bytes, not from the previous one's.
    const randomParts = new Set(ids.filter((_, i) => i % 2 === 0).map((id) => id.slice(10)));
    expect(randomParts.size).toBe(2000);
  });

  it('keeps a clock that went back in order: it goes on from the last id', () => {
    const later = Date.now() + 30_000_000;
    const a = newRunId(later);
    const b = newRunId(later - 5000);
    expect(b > a).toBe(true);
    expect(b.slice(0, 10)).toBe(a.slice(0, 10));
  });
});
