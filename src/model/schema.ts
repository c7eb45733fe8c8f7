import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidInputError } from './errors.js';

export type { StandardSchemaV1 };

/**
 * Validates `value` against any Standard Schema (zod, valibot, arktype, ...). Returns the parsed
 * value (schemas may transform), or throws InvalidInputError carrying the schema's own issues.
 */
export async function validateInput<S extends StandardSchemaV1>(
  workflow: string,
  schema: S | undefined,
  value: unknown,
): Promise<StandardSchemaV1.InferOutput<S>> {
  if (!schema) return value as StandardSchemaV1.InferOutput<S>;
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) throw new InvalidInputError(workflow, result.issues);
  return result.value as StandardSchemaV1.InferOutput<S>;
}

/**
 * The synchronous form, for callers that cannot wait (a spawn returns its handle at once). Returns
 * the parsed value, or the schema's issues; a schema that only validates asynchronously is
 * reported as such.
 */
export function validateInputSync(
  schema: StandardSchemaV1 | undefined,
  value: unknown,
): { value: unknown } | { issues: readonly StandardSchemaV1.Issue[] } | { async: true } {
  if (!schema) return { value };
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) return { async: true };
  if (result.issues) return { issues: result.issues };
  return { value: result.value };
}

/**
 * The schema's JSON Schema, when its library offers one (Standard JSON Schema, as zod 4 does):
 * what a dashboard renders a form from, and what a value is checked against in a process that
 * does not hold the schema itself. Undefined when the library offers none.
 */
export function jsonSchemaOf(schema: StandardSchemaV1 | undefined): Record<string, unknown> | undefined {
  const converter = (
    schema?.['~standard'] as { jsonSchema?: { input?: (o: { target: string }) => unknown } } | undefined
  )?.jsonSchema;
  if (typeof converter?.input !== 'function') return undefined;
  try {
    return converter.input({ target: 'draft-2020-12' }) as Record<string, unknown>;
  } catch {
    return undefined; // a schema it cannot express (a transform, say): the step checks the value itself
  }
}
