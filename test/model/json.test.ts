import { describe, expect, it } from 'vitest';
import { NotSerializableError } from '../../src/model/errors.js';
import { canonicalJson, fromJson, MAX_JSON_DEPTH, toJson, toJsonWithCanonical } from '../../src/model/json.js';

function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

describe('canonicalJson', () => {
  it('sorts keys at every level, so key order does not change the text', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [{ y: 2, z: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });

  it('keeps a __proto__ key: data with one does not hash like data without it', () => {
    const withProto = JSON.parse('{"user":"alice","__proto__":{"isAdmin":true}}');
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"isAdmin":true},"user":"alice"}');
    expect(canonicalJson(withProto)).not.toBe(canonicalJson({ user: 'alice' }));
    expect(canonicalJson(JSON.parse('[{"__proto__":[]}]'))).toBe('[{"__proto__":[]}]');
  });

  it('gives text for undefined, the same as the stored form', () => {
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(undefined)).toBe(canonicalJson(JSON.parse(toJson(undefined, 'Input'))));
  });

  it('keeps constructor and prototype keys too', () => {
    expect(canonicalJson({ constructor: 1, prototype: 2, toString: 3 })).toBe(
      '{"constructor":1,"prototype":2,"toString":3}',
    );
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH with a NotSerializableError naming the value', () => {
    expect(() => canonicalJson(nested(MAX_JSON_DEPTH - 1))).not.toThrow();
    const error = (() => {
      try {
        canonicalJson(nested(5000), 'Input of child "c"');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(NotSerializableError);
    expect((error as Error).message).toMatch(/^Input of child "c" cannot be stored as JSON: it nests deeper than 1000/);
  });
});

describe('toJson', () => {
  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"y":2}');
    expect(fromJson(toJson(value, 'Output'))).toEqual(value);
    expect(Object.keys(fromJson(toJson(value, 'Output')) as object)).toEqual(['__proto__', 'y']);
  });

  it.each([5000, 100_000])('refuses a value nested %i deep with NotSerializableError, not a RangeError', (depth) => {
    expect(() => toJson(nested(depth), 'Output of step "deep"')).toThrow(NotSerializableError);
    expect(() => toJson(nested(depth), 'Output of step "deep"')).toThrow(
      /^Output of step "deep" cannot be stored as JSON: it nests deeper than 1000 levels \(at \$[^)]+…\); flatten it/,
    );
  });

  it('stores a value nested just under the limit', () => {
    const value = nested(MAX_JSON_DEPTH - 1);
    expect(fromJson(toJson(value, 'Output'))).toEqual(value);
  });
});

describe('values that cannot even be read', () => {
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const withThrowingGetter = () =>
    Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter exploded');
      },
    });

  it.each([
    ['a revoked Proxy', revoked],
    ['an object whose getter throws', withThrowingGetter],
    ['an array holding a revoked Proxy', () => [1, revoked()]],
  ])('toJson and canonicalJson refuse %s with NotSerializableError', (_, make) => {
    for (const serialise of [
      () => toJson(make(), 'Output of step "s"'),
      () => canonicalJson(make(), 'Output of step "s"'),
    ]) {
      const error = (() => {
        try {
          serialise();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(NotSerializableError);
      expect((error as Error).message).toMatch(/^Output of step "s" cannot be stored as JSON: reading it threw \w+: /);
    }
  });

  it('canonicalJson refuses a bigint and a cycle by name', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(/The value cannot be stored as JSON: it holds a bigint/);
    const cycle: Record<string, unknown> = {};
    cycle.self = [cycle];
    expect(() => canonicalJson(cycle)).toThrow(/refers back to itself \(a cycle\)/);
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('toJsonWithCanonical', () => {
  const what = (subject: string) => `The input of "${subject}"`;
  const values: unknown[] = [
    { i: 7 },
    { a: 1, b: [{ c: 2, d: null }], e: 'x' },
    { b: 1, a: 2 },
    { a: { d: 1, c: 2 }, b: 3 },
    [{ z: 1, y: 2 }, { a: 1 }],
    { 10: 'a', 2: 'b', x: 1 },
    { 1: 'a', b: 2 },
    { b: undefined, a: 1, c: undefined },
    { at: new Date(0), a: 1 },
    JSON.parse('{"user":"alice","__proto__":{"isAdmin":true}}'),
    JSON.parse('{"__proto__":{"b":1,"a":2},"z":0}'),
    Object.assign(Object.create(null), { b: 1, a: 2 }),
    undefined,
    null,
    'text',
    [],
    {},
  ];

  it('gives the text toJson stores and the canonical text of what it parses back to, for keys in any order', () => {
    for (const value of values) {
      const stored = toJsonWithCanonical(value, what, 'child', true);
      expect(stored.json).toBe(toJson(value, 'Input'));
      expect(stored.canonical).toBe(canonicalJson(fromJson(toJson(value, 'Input'))));
    }
  });

  it('leaves the canonical text out when not asked for, unless it is the stored text anyway', () => {
    expect(toJsonWithCanonical({ b: 1, a: 2 }, what, 'child', false)).toEqual({
      json: '{"b":1,"a":2}',
      canonical: undefined,
    });
    expect(toJsonWithCanonical({ a: 2 }, what, 'child', false).json).toBe('{"a":2}');
  });

  it('refuses what toJson refuses, naming the value', () => {
    expect(() => toJsonWithCanonical({ a: 1n }, what, 'child', true)).toThrow(NotSerializableError);
    expect(() => toJsonWithCanonical({ b: () => 1 }, what, 'child', true)).toThrow(/The input of "child"/);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(() => toJsonWithCanonical({ a: revoked.proxy }, what, 'child', true)).toThrow(NotSerializableError);
  });
});
