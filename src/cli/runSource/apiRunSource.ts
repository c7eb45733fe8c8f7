import type { ApiClient, RunListQuery, RunPageJson } from '../apiClient.js';
import { type ChildCounts, planChildCounts, type RunReport, type RunSource } from './runReport.js';

/** Reads runs through a server's HTTP API. */
export class ApiRunSource implements RunSource {
  readonly description: string;

  constructor(private readonly client: ApiClient) {
    this.description = client.url;
  }

  listRuns(query: RunListQuery): Promise<RunPageJson> {
    return this.client.listRuns(query);
  }

  async getReport(runId: string, previous?: RunReport): Promise<RunReport> {
    const detail = await this.client.getRun(runId);
    const byStep: Record<string, ChildCounts> = {};
    if (detail.children.total > 0) {
      const { toCount, settled } = planChildCounts(detail.steps, previous);
      Object.assign(byStep, settled);
      const counted = await Promise.all(toCount.map((step) => this.client.countChildren(runId, step)));
      toCount.forEach((step, i) => {
        if (counted[i]!.total > 0) byStep[step] = counted[i]!;
      });
    }
    return {
      run: detail.run,
      steps: detail.steps,
      waits: detail.waits,
      children: { ...detail.children, byStep: inStepOrder(byStep, detail.steps) },
      parent: detail.parent,
      replayOf: detail.replayOf,
      ...(detail.progress ? { progress: detail.progress } : {}),
    };
  }

  async close(): Promise<void> {}
}

function inStepOrder(byStep: Record<string, ChildCounts>, steps: ReadonlyArray<{ name: string }>) {
  const ordered: Record<string, ChildCounts> = {};
  for (const { name } of steps) if (byStep[name]) ordered[name] = byStep[name];
  return ordered;
}
