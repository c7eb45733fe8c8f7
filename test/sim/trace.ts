import type { CommitResult } from '../../src/store/store.js';
import type { WriteBatch } from '../../src/store/types.js';
import type { CommitFault } from './faultyStore.js';

/**
 * What happened in one simulation, line by line, in words that do not depend on the run: run ids
 * (random and time-based) are named R1, R2... in the order they first appear, so replaying a seed
 * gives the same text byte for byte.
 */
export class Trace {
  private readonly entries: string[] = [];
  private readonly names = new Map<string, string>();
  private commits = 0;

  name(runId: string): string {
    let name = this.names.get(runId);
    if (!name) {
      name = `R${this.names.size + 1}`;
      this.names.set(runId, name);
    }
    return name;
  }

  add(line: string): void {
    this.entries.push(line);
  }

  /** The batch in words, taken before it is committed (the engine goes on changing its records after). */
  describe(batch: WriteBatch): string {
    const parts: string[] = [];
    if (batch.newRuns.length)
      parts.push(`new ${batch.newRuns.map((r) => `${this.name(r.id)}:${r.workflow}`).join(' ')}`);
    if (batch.runUpdates.length)
      parts.push(`runs ${batch.runUpdates.map((r) => `${this.name(r.id)}:${r.status}`).join(' ')}`);
    if (batch.steps.length)
      parts.push(`steps ${batch.steps.map((s) => `${this.name(s.runId)}/${s.name}:${s.status}`).join(' ')}`);
    if (batch.events.length) {
      parts.push(
        `events ${batch.events.map((e) => `${this.name(e.runId)}${e.step ? `/${e.step}` : ''}:${e.type}`).join(' ')}`,
      );
    }
    if (batch.waits?.length)
      parts.push(`waits ${batch.waits.map((w) => `${this.name(w.runId)}/${w.step}/${w.key}:${w.status}`).join(' ')}`);
    return parts.join('; ');
  }

  commit(process: number, fault: CommitFault, description: string, result: CommitResult): void {
    const parts = [description];
    if (result.duplicateRunIds.length) parts.push(`dup ${result.duplicateRunIds.map((id) => this.name(id)).join(' ')}`);
    if (result.staleRunIds?.length) parts.push(`stale ${result.staleRunIds.map((id) => this.name(id)).join(' ')}`);
    this.entries.push(`c${++this.commits} p${process}${fault === 'none' ? '' : ` ${fault}`}: ${parts.join('; ')}`);
  }

  lines(): string[] {
    return [...this.entries];
  }
}
