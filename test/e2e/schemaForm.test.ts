/**
 * The dashboard's input form, as data: the fields it draws from a JSON Schema, the value it sends,
 * and where a 422's issues go. (The browser test fills a real one; this pins the cases it does not.)
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildValue, formFields, initialValue, issuesByField } from '../../dashboard/src/waits/schemaForm.js';

const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema) as Record<string, unknown>;

describe('formFields', () => {
  it('draws a field per property of an object: text, number, integer, checkbox, choices, JSON otherwise', () => {
    const fields = formFields(
      schemaOf(
        z.object({
          name: z.string().describe('Who'),
          amount: z.number(),
          count: z.number().int(),
          ok: z.boolean(),
          level: z.enum(['low', 'high']),
          tags: z.array(z.string()),
          note: z.string().optional(),
        }),
      ),
    );
    expect(fields.map((f) => [f.name, f.kind, f.isRequired])).toEqual([
      ['name', 'string', true],
      ['amount', 'number', true],
      ['count', 'integer', true],
      ['ok', 'boolean', true],
      ['level', 'enum', true],
      ['tags', 'json', true],
      ['note', 'string', false],
    ]);
    expect(fields[0]!.description).toBe('Who');
    expect(fields[4]!.options).toEqual(['low', 'high']);
  });

  it('draws one field for a schema of one plain value, and one JSON editor without a usable schema', () => {
    expect(formFields(schemaOf(z.boolean())).map((f) => [f.name, f.kind])).toEqual([['', 'boolean']]);
    expect(formFields(schemaOf(z.enum(['a', 'b']))).map((f) => [f.name, f.kind])).toEqual([['', 'enum']]);
    expect(formFields(null).map((f) => [f.name, f.kind, f.label])).toEqual([['', 'json', 'Value (JSON)']]);
    expect(formFields(schemaOf(z.array(z.number()))).map((f) => f.kind)).toEqual(['json']);
  });

  it('starts from the schema defaults', () => {
    const [level, ok, n] = formFields(
      schemaOf(
        z.object({
          level: z.enum(['low', 'high']).default('high'),
          ok: z.boolean().default(true),
          n: z.number().default(3),
        }),
      ),
    );
    expect([initialValue(level!), initialValue(ok!), initialValue(n!)]).toEqual(['1', true, '3']);
  });
});

describe('buildValue', () => {
  const fields = formFields(
    schemaOf(
      z.object({
        by: z.string(),
        n: z.number(),
        ok: z.boolean(),
        level: z.enum(['low', 'high']),
        extra: z.object({ a: z.number() }),
        note: z.string().optional(),
        limit: z.number().optional(),
      }),
    ),
  );

  it('sends what was entered, typed; leaves out optional fields left empty', () => {
    const built = buildValue(fields, {
      by: 'Ada',
      n: '4.5',
      ok: true,
      level: '0',
      extra: '{"a": 1}',
      note: '',
      limit: '',
    });
    expect(built).toEqual({ value: { by: 'Ada', n: 4.5, ok: true, level: 'low', extra: { a: 1 } } });
  });

  it('sends an empty required text as "", and leaves out an empty required number for the server to name', () => {
    expect(buildValue(fields, { extra: '' }).value).toEqual({ by: '', ok: false });
  });

  it('catches JSON that does not parse before anything is sent', () => {
    const built = buildValue(fields, { by: 'x', extra: '{a: 1}' });
    expect(built.errors).toEqual({ extra: expect.stringContaining('Not JSON') });
  });

  it('sends the value itself for a one-field form', () => {
    expect(buildValue(formFields(schemaOf(z.boolean())), { '': true })).toEqual({ value: true });
    expect(buildValue(formFields(null), { '': '[1, 2]' })).toEqual({ value: [1, 2] });
    expect(buildValue(formFields(null), { '': '' })).toEqual({ value: null });
  });
});

describe('issuesByField', () => {
  it("puts each issue by its field, the rest (a missing property, the value's own) above the form", () => {
    const fields = formFields(schemaOf(z.object({ by: z.string(), extra: z.object({ a: z.number() }) })));
    expect(
      issuesByField(fields, [
        { path: ['by'], message: 'must NOT have fewer than 2 characters' },
        { path: ['extra', 'a'], message: 'must be number' },
        { path: [], message: "must have required property 'n'" },
      ]),
    ).toEqual({
      byField: { by: ['must NOT have fewer than 2 characters'], extra: ['a: must be number'] },
      general: ["must have required property 'n'"],
    });
    const single = formFields(schemaOf(z.string().min(3)));
    expect(issuesByField(single, [{ path: [], message: 'too short' }]).byField).toEqual({ '': ['too short'] });
  });
});
