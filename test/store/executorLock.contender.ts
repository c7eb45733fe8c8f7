/**
 * One contender for the executor lock, run as `node executorLock.contender.js <db>`
 * by executorLock.race.test.ts. With an IPC channel it takes orders: `{ acquireAt }` spins until
 * that wall-clock time (so two processes try at the same instant) and answers what it got;
 * `release` lets go. Without one (the zombie test) it takes the lock at once, prints `acquired`
 * and waits to be killed.
 * executorLock.contender.js is this file compiled for the test run (test/support/compiled.ts).
 */

import { StoreLockedError } from '../../src/model/errors.js';
import { ExecutorLock } from '../../src/store/sqlite/executorLock.js';

const dbPath = process.argv[2] as string;
const lock = new ExecutorLock(dbPath, dbPath);

export type ContenderOrder = { acquireAt: number } | 'release';
export type ContenderAnswer = { acquired: boolean } | 'released';

if (process.send) {
  process.on('message', (order: ContenderOrder) => {
    if (order === 'release') {
      lock.release();
      process.send?.('released' satisfies ContenderAnswer);
      return;
    }
    while (Date.now() < order.acquireAt) {
      // Spin: a timer would wake the two processes up to a few ms apart.
    }
    let acquired = false;
    try {
      lock.acquire();
      acquired = true;
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error;
    }
    process.send?.({ acquired } satisfies ContenderAnswer);
  });
  process.on('disconnect', () => process.exit(0));
  process.send('ready');
} else {
  lock.acquire();
  process.stdout.write(`acquired ${process.pid}\n`);
  setInterval(() => {}, 60_000);
}
