import { execFileSync } from 'node:child_process';

/**
 * Runs `script` (an ES module, through tsx) in a child Node with `--expose-gc`, so it can call
 * `globalThis.gc()` and count what WeakRefs still reach: how a test shows that a structure lets go
 * of what it no longer needs. Returns the last line the script printed.
 */
export function lastLineWithGc(script: string): string {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return out.trim().split('\n').pop() as string;
}
