import { NotSerializableError } from './errors.js';

/**
 * Serialises a value to the JSON text Braid stores. Refuses what JSON would silently change
 * (functions, symbols, bigint, NaN, class instances other than Date, cycles), so a step's output
 * reads back exactly as it was returned.
 */
export function toJson(value: unknown, what: string): string {
  const problem = findProblem(value, '$', new Set());
  if (problem) throw new NotSerializableError(what, problem);
  return value === undefined ? 'null' : JSON.stringify(value);
}

function findProblem(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value}`;
    case 'bigint':
      return `${path} is a bigint`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (obj instanceof Date) return undefined;
  if (seen.has(obj)) return `${path} refers back to itself (a cycle)`;
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const p = findProblem(obj[i], `${path}[${i}]`, seen);
        if (p) return p;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      return `${path} is a ${proto?.constructor?.name ?? 'class'} instance`;
    }
    for (const key of Object.keys(obj)) {
      const p = findProblem((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
      if (p) return p;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}

export function fromJson<T = unknown>(text: string | null | undefined): T {
  return (text === null || text === undefined ? undefined : JSON.parse(text)) as T;
}

/** JSON with object keys sorted at every level: equal data gives equal text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
