import { z } from 'zod';
import type { StandardSchemaV1 } from '../model/schema.js';
import type { Workflow } from '../model/workflow.js';
import type { WorkflowShapeJson } from './schemas.js';

/** A registered workflow as data: its options, its input's JSON Schema and the DAG of its steps. */
export function workflowShape(workflow: Workflow<any, any, any>): WorkflowShapeJson {
  const options = workflow.options;
  return {
    name: workflow.name,
    version: workflow.version,
    description: options.description ?? null,
    inputSchema: inputJsonSchema(options.input),
    timeoutSeconds: options.timeoutSeconds ?? null,
    retries: options.retries ?? null,
    maxRuns: options.maxRuns ?? null,
    maxParallelNodes: options.maxParallelNodes ?? null,
    steps: workflow.steps.map((step) => ({
      name: step.name,
      parents: [...step.parents],
      routes: [...(step.routes ?? [])],
      pool: step.pool ?? null,
      retries: step.retries ?? null,
      timeoutSeconds: step.timeoutSeconds ?? null,
      cache: step.cache === undefined ? null : typeof step.cache === 'boolean' ? step.cache : { ...step.cache },
      hasFallback: step.fallback !== undefined,
      isConditional: step.when !== undefined,
      requireAllParents: step.requireAllParents ?? false,
    })),
  };
}

/**
 * The JSON Schema of a zod 4 input schema (what a client must send: `io: 'input'`), or null for
 * other Standard Schema libraries, which have no common converter. Parts JSON Schema cannot say
 * (dates, transforms) become `{}` (anything) rather than failing the whole document.
 */
export function inputJsonSchema(schema: StandardSchemaV1 | undefined): Record<string, unknown> | null {
  if (schema?.['~standard'].vendor !== 'zod') return null;
  try {
    const jsonSchema = z.toJSONSchema(schema as unknown as z.ZodType, { io: 'input', unrepresentable: 'any' });
    return jsonSchema as Record<string, unknown>;
  } catch {
    // A zod 3 schema also says vendor "zod" but has no zod 4 internals.
    return null;
  }
}
