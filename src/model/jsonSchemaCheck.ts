import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

/**
 * Checks a value against a JSON Schema (draft 2020-12, what Standard JSON Schema produces): how a
 * person's input is checked in any process, before it is recorded. Compiled schemas are kept by
 * their text, at most a few hundred (inputs reuse a handful of schemas).
 */
const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
const MAX_COMPILED = 256;

export interface SchemaIssue {
  message: string;
  path: string[];
}

/** The value's issues against the schema: an empty list when it fits. */
export function jsonSchemaIssues(schema: Record<string, unknown>, value: unknown): SchemaIssue[] {
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    validate = ajv.compile(schema);
    compiled.set(text, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => ({
    message: e.message ?? 'is not valid',
    path: e.instancePath.split('/').filter(Boolean),
  }));
}
