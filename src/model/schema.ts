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
