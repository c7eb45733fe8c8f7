import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { StoreLockedError } from '../../model/errors.js';

/**
 * One executor runs a SQLite file at a time: two would both recover (and so re-run) each other's
 * running steps. The lock is a file beside the database holding the owner's pid and a token.
 * A lock whose process is gone (killed with SIGKILL, say) is taken over, so a restart after a
 * crash never needs a manual clean-up. Readers (the CLI, the API) take no lock.
 */
export class ExecutorLock {
  private readonly token = randomUUID();
  private held = false;

  constructor(
    private readonly lockPath: string,
    private readonly databasePath: string,
  ) {}

  acquire(): void {
    if (this.held) return;
    const mine = `${process.pid} ${this.token}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(this.lockPath, mine, { flag: 'wx' });
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const [pidText] = readOrEmpty(this.lockPath).split(' ');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new StoreLockedError(this.databasePath, pid);
      }
      // Stale: its process is gone. Remove it and try again (another starter may race us to it).
      fs.rmSync(this.lockPath, { force: true });
    }
    throw new StoreLockedError(this.databasePath, undefined);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (readOrEmpty(this.lockPath).includes(this.token)) fs.rmSync(this.lockPath, { force: true });
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
