import { NotSerializableError, serializeError } from './errors.js';

/**
 * The deepest nesting Braid stores. JSON.stringify and the checks here recurse, and past a few
 * thousand levels (4,000-5,000 on Node 20's default stack, fewer when called from deep in a stack)
 * they die with a RangeError that names nothing. 1,000 levels is far beyond real data (serde_json
 * stops at 128, protobuf at 100) and leaves room below that stack limit.
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Serialises a value to the JSON text Braid stores. Refuses what JSON would silently change
 * (functions, symbols, bigint, NaN, class instances other than Date, cycles), so a step's output
 * reads back exactly as it was returned.
 */
export function toJson(value: unknown, what: string): string {
  let problem: string | undefined;
  try {
    // Most values are fine: a walk that builds no paths says so (a run's input, a step's output:
    // 1.1 µs for {x: 1} instead of 3.8 µs with a path string per value and a Set per call, in W3).
    // Only a value it refuses is walked again, by findProblem, to say where and why.
    if (isStorable(value, [])) return value === undefined ? 'null' : JSON.stringify(value);
    problem = findProblem(value, '$', new Set(), 0);
    if (!problem) return value === undefined ? 'null' : JSON.stringify(value);
  } catch (error) {
    // A getter or a Proxy trap that throws (a revoked Proxy): the value cannot be read, so not stored.
    throw unreadable(what, error);
  }
  throw new NotSerializableError(what, problem);
}

function unreadable(what: string, error: unknown): NotSerializableError {
  if (error instanceof NotSerializableError) return error;
  const { name, message } = serializeError(error);
  return new NotSerializableError(what, `reading it threw ${name}: ${message}`, { cause: error });
}

/**
 * Whether findProblem would find nothing, without naming where. `ancestors`: the objects above this
 * one (an array: values are rarely more than a few levels deep, and it costs less than a Set).
 */
function isStorable(value: unknown, ancestors: object[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null || value instanceof Date) return true;
  if (ancestors.length >= MAX_JSON_DEPTH || ancestors.includes(value)) return false;
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isStorable(value[i], ancestors)) return false;
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      if (!isStorable((value as Record<string, unknown>)[keys[i] as string], ancestors)) return false;
    }
  }
  ancestors.pop();
  return true;
}

function findProblem(value: unknown, path: string, seen: Set<object>, depth: number): string | undefined {
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
  if (depth >= MAX_JSON_DEPTH) return tooDeep(path);
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const p = findProblem(obj[i], `${path}[${i}]`, seen, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      return `${path} is a ${proto?.constructor?.name ?? 'class'} instance`;
    }
    for (const key of Object.keys(obj)) {
      const p = findProblem((obj as Record<string, unknown>)[key], `${path}.${key}`, seen, depth + 1);
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

/**
 * JSON with object keys sorted at every level: equal data gives equal text, whatever the key order.
 * Every own key is kept, `__proto__` included (plain assignment would set the copy's prototype
 * instead, and `{"user":"alice","__proto__":{...}}` would hash like `{"user":"alice"}`).
 * Nesting deeper than MAX_JSON_DEPTH is a NotSerializableError naming `what`.
 */
export function canonicalJson(value: unknown, what = 'The value'): string {
  try {
    // `?? 'null'`: JSON.stringify(undefined) is undefined, not text; toJson stores it as null.
    return JSON.stringify(sortKeys(value, new Set(), what)) ?? 'null';
  } catch (error) {
    throw unreadable(what, error);
  }
}

/** `ancestors`: the objects above this one, to tell a cycle from deep nesting. */
function sortKeys(value: unknown, ancestors: Set<object>, what: string): unknown {
  if (typeof value === 'bigint') throw new NotSerializableError(what, 'it holds a bigint');
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  if (ancestors.has(value)) throw new NotSerializableError(what, 'it refers back to itself (a cycle)');
  if (ancestors.size >= MAX_JSON_DEPTH) throw new NotSerializableError(what, tooDeep('$'));
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => sortKeys(item, ancestors, what));
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort()) {
      out[key] = sortKeys((value as Record<string, unknown>)[key], ancestors, what);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}

function tooDeep(path: string): string {
  const shown = path.length > 60 ? `${path.slice(0, 60)}…` : path;
  return `it nests deeper than ${MAX_JSON_DEPTH} levels (at ${shown}); flatten it`;
}
