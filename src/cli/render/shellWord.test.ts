import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from './shellWord.js';

describe('shellWord', () => {
  it('leaves plain words alone', () => {
    expect(shellWord('order')).toBe('order');
    expect(shellWord('2026-01-31T12:00:00.000Z')).toBe('2026-01-31T12:00:00.000Z');
    expect(shellWord('http://127.0.0.1:7777')).toBe('http://127.0.0.1:7777');
  });

  it('quotes what the shell would split or expand, and sh reads each back as it was', () => {
    const values = ["it's odd", 'two words', '$HOME', 'a;b', '*', '', 'back\\slash', '"double"', "''"];
    for (const value of values) {
      expect(shellWord(value)).not.toBe(value);
      expect(execFileSync('sh', ['-c', `printf %s ${shellWord(value)}`], { encoding: 'utf8' })).toBe(value);
    }
  });
});
