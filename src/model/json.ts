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
    if (storability(value, []) !== NOT_STORABLE) return value === undefined ? 'null' : JSON.stringify(value);
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
 * The stored JSON text of `value` (as toJson) and, if `withCanonical`, its canonical JSON (as
 * canonicalJson of what that text parses back to), from one walk of the value. When every object in
 * it already has its keys in sorted order (the usual spawn input, `{ i }`), the two are the same
 * text: a fan-out serialises each child's input once, not three times (stringify, then parse, sort
 * into a copy and stringify again). `what(subject)` names the value in an error, built only then.
 */
export function toJsonWithCanonical(
  value: unknown,
  what: (subject: string) => string,
  subject: string,
  withCanonical: boolean,
): { json: string; canonical: string | undefined } {
  try {
    if (storability(value, []) === STORABLE_SORTED) {
      const json = value === undefined ? 'null' : JSON.stringify(value);
      return { json, canonical: json };
    }
  } catch (error) {
    throw unreadable(what(subject), error);
  }
  const json = toJson(value, what(subject));
  return { json, canonical: withCanonical ? canonicalJson(fromJson(json), what(subject)) : undefined };
}

/** What one walk learns of a value: not storable, storable, or storable with every object's keys in sorted order. */
const NOT_STORABLE = 0;
const STORABLE = 1;
const STORABLE_SORTED = 2;
type Storability = typeof NOT_STORABLE | typeof STORABLE | typeof STORABLE_SORTED;

/**
 * Whether findProblem would find nothing, without naming where, and whether the JSON text of the
 * value is also its canonical text: every object's keys, as Object.keys lists them, strictly
 * ascending (then sorting them changes nothing, and neither does JSON.parse, which keeps text order;
 * integer-like keys out of string order, `{"2": 0, "10": 0}`, are simply not counted as sorted).
 * `ancestors`: the objects above this one (an array: values are rarely more than a few levels
 * deep, and it costs less than a Set).
 */
function storability(value: unknown, ancestors: object[]): Storability {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return STORABLE_SORTED;
    case 'number':
      return Number.isFinite(value) ? STORABLE_SORTED : NOT_STORABLE;
    case 'object':
      break;
    default:
      return NOT_STORABLE;
  }
  if (value === null || value instanceof Date) return STORABLE_SORTED;
  if (ancestors.length >= MAX_JSON_DEPTH || ancestors.includes(value)) return NOT_STORABLE;
  ancestors.push(value);
  let result: Storability = STORABLE_SORTED;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = storability(value[i], ancestors);
      if (item === NOT_STORABLE) return NOT_STORABLE;
      if (item === STORABLE) result = STORABLE;
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return NOT_STORABLE;
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = storability((value as Record<string, unknown>)[key], ancestors);
      if (item === NOT_STORABLE) return NOT_STORABLE;
      if (item === STORABLE || (i > 0 && !((keys[i - 1] as string) < key))) result = STORABLE;
    }
  }
  ancestors.pop();
  return result;
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
