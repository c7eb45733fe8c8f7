import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryStore, WorkflowExecutor, workflow } from '../../src/index.js';

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;
let executor: WorkflowExecutor | undefined;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
});

afterEach(async () => {
  await executor?.cleanup();
  executor = undefined;
  await provider.shutdown();
  trace.disable();
});

const leaf = workflow('leaf', { input: z.object({ n: z.number() }) }).step('leaf-step', (ctx) => ctx.input.n);
const middle = workflow('middle', { input: z.object({ n: z.number() }) }).step('middle-step', (ctx) =>
  ctx.join([ctx.spawnWorkflow(leaf, { n: ctx.input.n })]),
);
const top = workflow('top').step('top-step', (ctx) =>
  ctx.join([ctx.spawnWorkflow(middle, { n: 1 }), ctx.spawnWorkflow(middle, { n: 2 })]),
);

function spansNamed(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

function only(name: string): ReadableSpan {
  const spans = spansNamed(name);
  expect(spans, name).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

describe('tracing child runs', () => {
  it("gives a child run's span the spawning step's span as parent, in one trace", async () => {
    executor = new WorkflowExecutor({ store: new MemoryStore(), traceExecution: true });
    const result = await executor.execute(top, undefined);
    expect(result.output).toEqual([[1], [2]]);

    const topRun = only('workflow top');
    const topStep = only('step top-step');
    const traceId = topRun.spanContext().traceId;
    expect(result.traceId).toBe(traceId);
    expect(topStep.parentSpanContext?.spanId).toBe(topRun.spanContext().spanId);

    const middleRuns = spansNamed('workflow middle');
    const middleSteps = spansNamed('step middle-step');
    const leafRuns = spansNamed('workflow leaf');
    expect(middleRuns).toHaveLength(2);
    expect(middleSteps).toHaveLength(2);
    expect(leafRuns).toHaveLength(2);
    for (const span of exporter.getFinishedSpans()) expect(span.spanContext().traceId, span.name).toBe(traceId);

    for (const run of middleRuns) {
      expect(run.parentSpanContext?.spanId).toBe(topStep.spanContext().spanId);
      expect(run.attributes['braid.parent_run_id']).toBe(result.runId);
    }
    const middleStepIds = new Set(middleSteps.map((s) => s.spanContext().spanId));
    for (const run of leafRuns) expect(middleStepIds.has(run.parentSpanContext?.spanId ?? '')).toBe(true);
  });
});
