import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { NonRetryableError, type SerializedError, serializeError } from '../../src/model/errors.js';

/** serializeError's result must itself be storable: plain strings, JSON round-trip. */
function stored(value: unknown): SerializedError {
  const out = serializeError(value);
  expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  expect(typeof out.name).toBe('string');
  expect(typeof out.message).toBe('string');
  return out;
}

const throwing = (what: string) => () => {
  throw new Error(`${what} getter exploded`);
};

describe('serializeError takes any thrown value', () => {
  it('keeps an ordinary Error: name, message, code, stack and cause', () => {
    const error = Object.assign(new NonRetryableError('outer', { cause: new TypeError('inner') }), {});
    const out = stored(error);
    expect(out).toMatchObject({ name: 'NonRetryableError', message: 'outer', code: 'non_retryable' });
    expect(out.stack).toContain('outer');
    expect(out.cause).toMatchObject({ name: 'TypeError', message: 'inner' });
  });

  it('a null-prototype object with a cycle', () => {
    const value = Object.create(null) as Record<string, unknown>;
    value.self = value;
    expect(stored(value)).toEqual({
      name: 'Error',
      message: expect.stringMatching(/^\[a thrown object that cannot be shown as text: .+\]$/),
    });
  });

  it('a revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable(new Error('gone'), {});
    revoke();
    expect(stored(proxy).message).toMatch(/a thrown object that cannot be shown as text/);
  });

  it('a Proxy whose every trap throws', () => {
    const boom = () => {
      throw new Error('trap');
    };
    const proxy = new Proxy(
      {},
      { get: boom, getPrototypeOf: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom },
    );
    expect(stored(proxy).name).toBe('Error');
  });

  it('an Error whose message getter throws keeps its other fields', () => {
    const error = new RangeError('hidden');
    Object.defineProperty(error, 'message', { get: throwing('message') });
    Object.defineProperty(error, 'code', { value: 'E_KEEP' });
    expect(stored(error)).toMatchObject({ name: 'RangeError', message: '', code: 'E_KEEP' });
  });

  it('an Error whose code, name, stack or cause getter throws', () => {
    const error = new Error('still here');
    // stack first: redefining it formats the stack, which reads name.
    for (const key of ['stack', 'code', 'name', 'cause']) Object.defineProperty(error, key, { get: throwing(key) });
    expect(stored(error)).toEqual({ name: 'Error', message: 'still here' });
  });

  it('an Error whose message is not a string, or whose cause is itself', () => {
    const error = new Error('x');
    Object.assign(error, { message: { detail: 42 }, cause: error });
    const out = stored(error);
    expect(out.message).toBe('{"detail":42}');
    let depth = 0;
    for (let c = out.cause; c; c = c.cause) depth++;
    expect(depth).toBe(4);
  });

  it('a symbol, a bigint and a function', () => {
    expect(stored(Symbol('sym')).message).toBe('Symbol(sym)');
    expect(stored(10n ** 30n).message).toBe('1000000000000000000000000000000');
    expect(stored(function named() {}).message).toContain('named');
  });

  it('an object whose toJSON and toString throw', () => {
    const value = { toJSON: throwing('toJSON'), toString: throwing('toString') };
    expect(stored(value).message).toMatch(/cannot be shown as text: toString getter exploded/);
  });

  it('undefined, null, numbers and strings', () => {
    expect(stored(undefined)).toEqual({ name: 'Error', message: 'undefined' });
    expect(stored(null)).toEqual({ name: 'Error', message: 'null' });
    expect(stored(Number.NaN)).toEqual({ name: 'Error', message: 'null' });
    expect(stored('plain')).toEqual({ name: 'Error', message: 'plain' });
  });

  it('an Error from another realm (vm context) keeps its name and message', () => {
    const foreign = vm.runInNewContext('new TypeError("from elsewhere")');
    expect(foreign instanceof Error).toBe(false);
    expect(stored(foreign)).toMatchObject({ name: 'TypeError', message: 'from elsewhere' });
  });
});
