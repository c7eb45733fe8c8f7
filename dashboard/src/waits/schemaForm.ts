/**
 * The fields of the form that answers an input, read from its JSON Schema: one field per property
 * of an object (text, number, checkbox or a list of choices, and a small JSON editor for anything
 * else), a single field for a schema of one plain value, and one JSON editor when there is no
 * schema or it is of another shape. The server checks the value against the full schema, so the
 * form only shapes what is sent; a constraint it does not show (a minimum length, a pattern) comes
 * back as a 422 whose issues are shown beside their fields.
 */

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface FieldSpec {
  /** The property's name; '' for the value itself (a schema of one plain value, or none). */
  name: string;
  label: string;
  description: string | undefined;
  kind: FieldKind;
  isRequired: boolean;
  /** enum: the choices, as the schema lists them. */
  options: readonly unknown[];
  defaultValue: unknown;
}

/** A field's text (or, for a checkbox, whether it is ticked). enum: the index of the choice, or ''. */
export type FieldValue = string | boolean;

const SIMPLE_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

export function formFields(schema: Record<string, unknown> | null): FieldSpec[] {
  if (schema && schema.type === 'object' && isObject(schema.properties)) {
    const required = new Set(Array.isArray(schema.required) ? schema.required : []);
    return Object.entries(schema.properties).map(([name, property]) =>
      fieldOf(name, isObject(property) ? property : {}, required.has(name)),
    );
  }
  if (schema && fieldKind(schema) !== 'json') return [fieldOf('', schema, true)];
  return [{ ...fieldOf('', {}, true), label: 'Value (JSON)' }];
}

function fieldOf(name: string, schema: Record<string, unknown>, isRequired: boolean): FieldSpec {
  const kind = fieldKind(schema);
  return {
    name,
    label: typeof schema.title === 'string' ? schema.title : name || 'Value',
    description: typeof schema.description === 'string' ? schema.description : undefined,
    kind,
    isRequired,
    options: kind === 'enum' ? (schema.enum as unknown[]) : [],
    defaultValue: schema.default,
  };
}

function fieldKind(schema: Record<string, unknown>): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every(isPrimitive)) return 'enum';
  if (typeof schema.type === 'string' && SIMPLE_TYPES.has(schema.type)) return schema.type as FieldKind;
  return 'json';
}

export function initialValue(field: FieldSpec): FieldValue {
  const value = field.defaultValue;
  switch (field.kind) {
    case 'boolean':
      return value === true;
    case 'enum': {
      const index = field.options.indexOf(value);
      return index === -1 ? '' : String(index);
    }
    case 'string':
      return typeof value === 'string' ? value : '';
    case 'number':
    case 'integer':
      return typeof value === 'number' ? String(value) : '';
    case 'json':
      return value === undefined ? '' : JSON.stringify(value, null, 2);
  }
}

export type BuiltValue = { value: unknown; errors?: undefined } | { value?: undefined; errors: Record<string, string> };

/**
 * The value to send. An optional field left empty is left out; a required one is sent as it is
 * (an empty text as '') or left out, so the server names what is missing. A JSON field that does
 * not parse, or a number that is not one, is caught here, before anything is sent.
 */
export function buildValue(fields: readonly FieldSpec[], values: Readonly<Record<string, FieldValue>>): BuiltValue {
  const errors: Record<string, string> = {};
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = values[field.name] ?? initialValue(field);
    const read = readField(field, raw);
    if ('error' in read) errors[field.name] = read.error;
    else if (read.isSet) out[field.name] = read.value;
  }
  if (Object.keys(errors).length) return { errors };
  // One field named '' is the value itself.
  if (fields.length === 1 && fields[0]!.name === '') return { value: out[''] ?? null };
  return { value: out };
}

function readField(
  field: FieldSpec,
  raw: FieldValue,
): { isSet: false } | { isSet: true; value: unknown } | { error: string } {
  if (field.kind === 'boolean') return { isSet: true, value: raw === true };
  const text = typeof raw === 'string' ? raw : '';
  if (field.kind === 'string')
    return text === '' && !field.isRequired ? { isSet: false } : { isSet: true, value: text };
  if (text.trim() === '') return { isSet: false };
  switch (field.kind) {
    case 'enum':
      return { isSet: true, value: field.options[Number(text)] };
    case 'number':
    case 'integer': {
      const n = Number(text);
      return Number.isFinite(n) ? { isSet: true, value: n } : { error: 'Enter a number.' };
    }
    case 'json':
      try {
        return { isSet: true, value: JSON.parse(text) };
      } catch (error) {
        return { error: `Not JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
  }
}

/**
 * Splits a 422's issues into those of a field (by the first step of their path) and the rest,
 * which the form shows above its fields.
 */
export function issuesByField(
  fields: readonly FieldSpec[],
  issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>,
): { byField: Record<string, string[]>; general: string[] } {
  const names = new Set(fields.map((f) => f.name));
  const byField: Record<string, string[]> = {};
  const general: string[] = [];
  for (const issue of issues) {
    const first = issue.path.length ? String(issue.path[0]) : '';
    if (names.has(first)) {
      const rest = issue.path.slice(1).join('.');
      byField[first] = [...(byField[first] ?? []), rest ? `${rest}: ${issue.message}` : issue.message];
    } else {
      general.push(`${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    }
  }
  return { byField, general };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}
