import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { workflow } from '../../src/index.js';
import { useEngineFixture } from './helpers.js';

const flaky = workflow('traced', { backoff: { initialMs: 1 } })
  .step('load', () => ({ items: [1, 2, 3] }))
  .step('charge', { parents: ['load'], retries: 2 }, (ctx) => {
    if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
    return ctx.parent('load').items.length;
  });

const stepSpans = (spans: ReadableSpan[]) => spans.filter((s) => s.attributes['braid.step'] !== undefined);

describe('tracing with an OpenTelemetry SDK registered', () => {
  const fx = useEngineFixture();
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
  });

  afterEach(async () => {
    trace.disable();
    await provider.shutdown();
  });

  it('produces one run span and one span per step attempt, in the trace named by traceId', async () => {
    const result = await fx.executor({ traceExecution: true }).execute(flaky, { order: 7 });
    const spans = exporter.getFinishedSpans();

    expect(result.success).toBe(true);
    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([result.traceId]));

    const runSpans = spans.filter((s) => s.attributes['braid.step'] === undefined);
    expect(runSpans).toHaveLength(1);
    const runSpan = runSpans[0] as ReadableSpan;
    expect(runSpan.name).toBe('workflow traced');
    expect(runSpan.attributes).toMatchObject({
      'braid.workflow': 'traced',
      'braid.run_id': result.runId,
      'braid.input_size': JSON.stringify({ order: 7 }).length,
      'braid.outcome': 'succeeded',
      'braid.output_size': JSON.stringify(result.output).length,
    });

    const steps = stepSpans(spans);
    expect(steps.map((s) => `${s.attributes['braid.step']}#${s.attributes['braid.attempt']}`).sort()).toEqual([
      'charge#1',
      'charge#2',
      'charge#3',
      'load#1',
    ]);
    for (const span of steps) {
      expect(span.attributes['braid.workflow']).toBe('traced');
      expect(span.attributes['braid.input_size']).toBeTypeOf('number');
      expect(span.parentSpanContext?.spanId).toBe(runSpan.spanContext().spanId);
    }
    const outcome = (step: string, attempt: number) =>
      steps.find((s) => s.attributes['braid.step'] === step && s.attributes['braid.attempt'] === attempt)?.attributes;
    expect(outcome('charge', 1)?.['braid.outcome']).toBe('retrying');
    expect(outcome('charge', 3)).toMatchObject({ 'braid.outcome': 'succeeded', 'braid.output_size': 1 });
    expect(outcome('load', 1)).toMatchObject({
      'braid.outcome': 'succeeded',
      'braid.output_size': JSON.stringify({ items: [1, 2, 3] }).length,
    });
  });

  it('ends the spans of a failed run with the failure as outcome', async () => {
    const wf = workflow('traced-failure').step('boom', () => {
      throw new Error('kaboom');
    });
    const result = await fx.executor({ traceExecution: true }).execute(wf, null);
    const spans = exporter.getFinishedSpans();

    expect(result.traceId).toBeDefined();
    expect(stepSpans(spans)[0]?.attributes['braid.outcome']).toBe('failed');
    expect(spans.find((s) => s.attributes['braid.step'] === undefined)?.attributes['braid.outcome']).toBe('failed');
  });

  it('records nothing and reports no traceId when traceExecution is false', async () => {
    const result = await fx.executor({ traceExecution: false }).execute(flaky, {});
    expect(result.success).toBe(true);
    expect(result.traceId).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('tracing with no OpenTelemetry SDK registered', () => {
  const fx = useEngineFixture();

  it('still runs the workflow, and traceId is undefined', async () => {
    trace.disable();
    const result = await fx.executor({ traceExecution: true }).execute(flaky, {});
    expect(result.success).toBe(true);
    expect(result.output).toBe(3);
    expect(result.traceId).toBeUndefined();
  });
});
