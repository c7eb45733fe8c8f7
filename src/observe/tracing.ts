import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

export type { Span };

// The API package alone records nothing: without an SDK installed by the app, every span is a
// no-op, so tracing costs almost nothing until someone wants it.
const tracer = () => trace.getTracer('braid', '0.1.0');

export function startRunSpan(
  attributes: { workflow: string; runId: string; inputBytes: number; parentRunId: string | null },
  parent?: Span,
): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer().startSpan(
    `workflow ${attributes.workflow}`,
    {
      attributes: {
        'braid.workflow': attributes.workflow,
        'braid.run_id': attributes.runId,
        'braid.input_size': attributes.inputBytes,
        ...(attributes.parentRunId ? { 'braid.parent_run_id': attributes.parentRunId } : {}),
      },
    },
    ctx,
  );
}

export function startStepSpan(
  runSpan: Span,
  attributes: { workflow: string; runId: string; step: string; attempt: number; inputBytes: number },
): Span {
  return tracer().startSpan(
    `step ${attributes.step}`,
    {
      attributes: {
        'braid.workflow': attributes.workflow,
        'braid.run_id': attributes.runId,
        'braid.step': attributes.step,
        'braid.attempt': attributes.attempt,
        'braid.input_size': attributes.inputBytes,
      },
    },
    trace.setSpan(context.active(), runSpan),
  );
}

export function endSpan(
  span: Span | undefined,
  outcome: string,
  extra?: { outputBytes?: number; error?: string },
): void {
  if (!span) return;
  span.setAttribute('braid.outcome', outcome);
  if (extra?.outputBytes !== undefined) span.setAttribute('braid.output_size', extra.outputBytes);
  if (extra?.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: extra.error });
  else if (outcome === 'succeeded') span.setStatus({ code: SpanStatusCode.OK });
  span.end();
}

/** The trace id to report, or undefined when no SDK is installed (the span is not recording). */
export function traceIdOf(span: Span | undefined): string | undefined {
  if (!span) return undefined;
  const id = span.spanContext().traceId;
  return span.isRecording() || /[1-9a-f]/.test(id) ? id : undefined;
}
