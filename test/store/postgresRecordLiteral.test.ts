import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgresStore.js';
import { RecordArrayLiteral } from '../../src/store/postgres/recordLiteral.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';

// The commit statement reads every part of a batch from an array of row literals: a field that
// came back changed would be a stored record that differs from the one the engine committed.
let db: { url: string; drop(): Promise<void> };
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  const store = new PostgresStore({ connectionString: db.url });
  await store.open();
  await store.close();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const awkward = [
  '',
  ' ',
  '"',
  '\\',
  '\\"',
  '""',
  'a,b',
  '(x)',
  ')',
  '{1,2}',
  'NULL',
  'null',
  '  padded  ',
  'line\nbreak\ttab\r',
  '{"output":"say \\"hi\\", then (leave)"}',
  'ünïcödé ✓ 🚀',
  "it's",
  'plain-id_01M8QG:1.5+2',
  '1e+21',
  '-',
];

/** The array literal of these rows, as commitBatch sends it. */
function literal(rows: readonly (readonly unknown[])[]): string {
  const array = new RecordArrayLiteral();
  for (const row of rows) array.add(row);
  return array.toString();
}

describe('RecordArrayLiteral', () => {
  it('round-trips every text through an array of a row type, nulls and empty strings kept apart', async () => {
    const rows = awkward.map((text, i) => [`run-${i}`, i % 2 ? null : text, text, 1_796_085_247_297 + i, 1 - i, text]);
    rows.push(['run-null', null, 'step_started', 0, null, null]);
    const { rows: back } = await client.query({
      text: 'SELECT run_id, step, type, at, attempt, data FROM unnest($1::braid.commit_event[]) WITH ORDINALITY AS e ORDER BY e.ordinality',
      values: [literal(rows)],
      rowMode: 'array',
    });
    // bigint comes back as a string from pg.
    expect(back).toEqual(rows.map((r) => [r[0], r[1], r[2], String(r[3]), r[4], r[5]]));
  });

  it('sends an empty array as one', async () => {
    const { rows: back } = await client.query({
      text: 'SELECT count(*)::int AS n FROM unnest($1::braid.commit_cache_entry[])',
      values: [literal([])],
    });
    expect(back).toEqual([{ n: 0 }]);
  });

  it('writes booleans as t / f and an absent field as NULL', async () => {
    const { rows: back } = await client.query({
      text: 'SELECT name, cache_hit, fallback_used, output FROM unnest($1::braid.commit_step[])',
      values: [
        literal([
          ['r', 'a', 'succeeded', 1, '1', null, 1, 2, null, null, true, false],
          ['r', 'b', 'succeeded', 1, undefined, null, 1, 2, null, null, false, true],
        ]),
      ],
      rowMode: 'array',
    });
    expect(back).toEqual([
      ['a', true, false, '1'],
      ['b', false, true, null],
    ]);
  });
});
