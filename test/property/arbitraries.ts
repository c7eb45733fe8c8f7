/**
 * What the property suites feed Braid: JSON-ish data and the values a hostile or careless caller
 * can hand it (deep nesting, `__proto__` keys, undefined, NaN, bigint, cycles, Dates, Proxies...).
 * Hostile values are built by factories at use time: a Proxy or a cycle is a fresh object each run.
 */
import fc from 'fast-check';

/**
 * A fixed seed in CI, so a failure there is replayed exactly (`BRAID_FC_SEED=<seed>` locally);
 * locally a new one each run, to keep looking. fast-check prints the seed and the shrunk
 * counterexample of a failure.
 */
export const propertyParameters: fc.Parameters<unknown> = {
  seed: process.env.BRAID_FC_SEED ? Number(process.env.BRAID_FC_SEED) : process.env.CI ? 20_261_130 : Date.now(),
};

const awkwardKeys = fc.constantFrom(
  '__proto__',
  'constructor',
  'toString',
  'prototype',
  'then',
  'cause',
  'message',
  '',
  '\u0000',
  'a.b',
);
const key = fc.oneof(fc.string({ maxLength: 6 }), awkwardKeys);

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
  return value;
}

/** Values that cannot be stored as they are, by name; each is made fresh by `build`. */
const hostileFactories = {
  undefined: () => undefined,
  NaN: () => Number.NaN,
  Infinity: () => Number.POSITIVE_INFINITY,
  'minus zero': () => -0,
  bigint: () => 10n ** 20n,
  symbol: () => Symbol('s'),
  function: () => () => 'a function',
  Date: () => new Date(0),
  'invalid Date': () => new Date(Number.NaN),
  Map: () => new Map([[1, 2]]),
  RegExp: () => /re/g,
  Uint8Array: () => new Uint8Array(3),
  'null-prototype object': () => Object.create(null),
  cycle: () => {
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    return cycle;
  },
  'null-prototype cycle': () => {
    const cycle = Object.create(null) as Record<string, unknown>;
    cycle.self = [cycle];
    return cycle;
  },
  'revoked Proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  'throwing getter': () =>
    Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    }),
  '__proto__ key': () => JSON.parse('{"__proto__":{"isAdmin":true},"user":"alice"}'),
  'nested 5,000 deep': () => nested(5000, 1),
  'nested 999 deep': () => nested(999, 'just under the limit'),
} satisfies Record<string, () => unknown>;

/**
 * How to build a value: fast-check only ever sees this plain description (it reads, clones and
 * prints what it generates, and a revoked Proxy throws at the first touch), and the property
 * builds the value itself.
 */
export type Recipe =
  | { json: unknown }
  | { hostile: keyof typeof hostileFactories }
  | { array: Recipe[] }
  | { object: Array<[string, Recipe]> };

const hostile = fc.constantFrom(...(Object.keys(hostileFactories) as Array<keyof typeof hostileFactories>));

function recipes(withHostile: boolean): fc.Arbitrary<Recipe> {
  return fc.letrec<{ recipe: Recipe }>((tie) => ({
    recipe: fc.oneof(
      { maxDepth: 4, depthSize: 'small' },
      fc.jsonValue({ maxDepth: 2 }).map((json): Recipe => ({ json })),
      ...(withHostile ? [hostile.map((name): Recipe => ({ hostile: name }))] : []),
      fc.array(tie('recipe'), { maxLength: 4 }).map((array): Recipe => ({ array })),
      fc.array(fc.tuple(key, tie('recipe')), { maxLength: 4 }).map((object): Recipe => ({ object })),
    ),
  })).recipe;
}

/** JSON-ish data with hostile values anywhere inside. */
export const anyValue = recipes(true);
/** Only JSON data, some of it with awkward keys (`__proto__`, `constructor`...). */
export const jsonData = recipes(false);

/** The value a recipe describes, made now. Object keys are own properties, `__proto__` included. */
export function build(recipe: Recipe): unknown {
  if ('json' in recipe) return structuredClone(recipe.json);
  if ('hostile' in recipe) return hostileFactories[recipe.hostile]();
  if ('array' in recipe) return recipe.array.map(build);
  const out: Record<string, unknown> = {};
  for (const [k, item] of recipe.object) {
    Object.defineProperty(out, k, { value: build(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
