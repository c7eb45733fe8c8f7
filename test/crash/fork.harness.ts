/** What the fork crash test (fork.crash.test.ts) and its worker process (fork.worker.ts) share. */

export interface ForkOrder {
  mode: 'original' | 'fork' | 'recover';
  dbPath: string;
  logPath: string;
  originalId?: string;
  /** -1: in the tick fork() is called; 'committed': once fork() resolved; else ms after the call. */
  killAfterMs?: number | 'committed';
}

/** The output of a fork from step b with input x of an original run with input `original`. */
export const forkOutput = (x: number, original: number) => (original + 1) * 10 + x * 100;
