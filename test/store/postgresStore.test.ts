import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreConnectionError, StoreMigrationRequiredError, StoreVersionError } from '../../src/model/errors.js';
import type { ClaimedRun } from '../../src/store/coordination.js';
import {
  decodeIds,
  encodeIds,
  READY_CHANNEL,
  SETTLED_CHANNEL,
  SLOTS_CHANNEL,
  WAITS_CHANNEL,
} from '../../src/store/postgres/channels.js';
import { loadMigrations } from '../../src/store/postgres/migrate.js';
import { PostgresStore } from '../../src/store/postgres/postgresStore.js';
import { getRunStates } from '../../src/store/postgres/queries/getRunStates.js';
import {
  type EventRecord,
  emptyBatch,
  type InboxEvent,
  type RunRecord,
  type RunUpdate,
  type StepRecord,
  type WaitRecord,
  type WriteBatch,
} from '../../src/store/types.js';
import { createTestDatabase } from '../support/embeddedPostgres.js';
import { holdClaimsAfterTheirLocks } from '../support/holdClaims.js';
import { describeStoreConformance, makeRun } from './conformance.js';

/** One database for the conformance suite, emptied before each test (faster than one per test). */
let shared: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  shared = await createTestDatabase();
  const store = new PostgresStore({ connectionString: shared.url });
  await store.open();
  await store.close();
});

afterAll(async () => {
  await shared?.drop();
});

describeStoreConformance('PostgresStore', async () => {
  await withClient(shared.url, (client) =>
    client.query(
      'TRUNCATE braid.runs, braid.steps, braid.events, braid.cache, braid.semaphore_holders, braid.waits, braid.inbox, braid.forks, braid.stream_chunks, braid.schedules, braid.schedule_ticks',
    ),
  );
  return { store: new PostgresStore({ connectionString: shared.url }), cleanup: async () => {} };
});

describe('PostgresStore migrations', () => {
  let db: { url: string; drop(): Promise<void> };

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await db.drop();
  });

  it('four workers opening a fresh database at once all succeed, and the schema is applied once', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: db.url, poolSize: 2 }));
    await Promise.all(stores.map((s) => s.open()));
    const rows = await withClient(db.url, (c) =>
      c.query('SELECT version, name FROM braid.migrations ORDER BY version'),
    );
    expect(rows.rows).toEqual(loadMigrations().map((m) => ({ version: m.version, name: m.name })));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a database migrated by a newer Braid', async () => {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    await store.close();
    await withClient(db.url, (c) => c.query(`INSERT INTO braid.migrations (version, name) VALUES (9999, 'future')`));
    for (const migrate of [true, false]) {
      const error = await new PostgresStore({ connectionString: db.url, migrate }).open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreVersionError);
      expect(error).toMatchObject({ code: 'store_version', found: 9999 });
    }
  });

  it('with migrate: false, an empty database says to run braid migrate', async () => {
    const error = await new PostgresStore({ connectionString: db.url, migrate: false }).open().catch((e) => e);
    expect(error).toBeInstanceOf(StoreMigrationRequiredError);
    expect((error as Error).message).toMatch(/braid migrate/);
    expect((error as Error).message).toContain('version 0');

    const migrating = new PostgresStore({ connectionString: db.url });
    await migrating.open();
    await migrating.close();
    const store = new PostgresStore({ connectionString: db.url, migrate: false });
    await store.open();
    expect(await store.getRun('x')).toBeUndefined();
    await store.close();
  });
});

describe('PostgresStore connections', () => {
  it('redacts the password in its description', () => {
    const store = new PostgresStore({ connectionString: 'postgres://braid:s3cret@db.example:5432/app' });
    expect(store.description).toBe('postgres://braid:***@db.example:5432/app');
    expect(store.connectionString).toContain('s3cret');
  });

  it('says to open the store when it is used before open()', async () => {
    const store = new PostgresStore({ connectionString: 'postgres://braid:x@localhost/app' });
    await expect(store.getRun('x')).rejects.toThrow(/open\(\)/);
    expect(() => store.pool).toThrow(/open\(\)/);
    await store.close();
  });

  it('a malformed URL is a StoreConnectionError naming the problem', async () => {
    for (const url of ['not a url', 'mysql://braid:pw@localhost/app']) {
      const error = await new PostgresStore({ connectionString: url }).open().catch((e) => e);
      expect(error).toBeInstanceOf(StoreConnectionError);
      expect(error).toMatchObject({ code: 'store_connection', problem: 'malformed_url' });
      expect((error as Error).message).toMatch(/BRAID_DATABASE_URL/);
    }
  });

  it('a closed port fails fast with a StoreConnectionError', async () => {
    const started = Date.now();
    const error = await new PostgresStore({ connectionString: 'postgres://braid:pw@127.0.0.1:1/app' })
      .open()
      .catch((e) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(StoreConnectionError);
    expect(error).toMatchObject({ problem: 'unreachable' });
    expect((error as Error).message).toContain('postgres://braid:***@127.0.0.1:1/app');
    expect((error as Error).message).toMatch(/running/);
    expect((error as Error).message).not.toContain(':pw@');
  });

  it('a wrong password and a missing database are StoreConnectionErrors that say so', async () => {
    const url = new URL(shared.url);
    url.password = 'wrong';
    const badPassword = await new PostgresStore({ connectionString: url.href }).open().catch((e) => e);
    expect(badPassword).toBeInstanceOf(StoreConnectionError);
    expect(badPassword).toMatchObject({ problem: 'authentication' });
    expect((badPassword as Error).message).toMatch(/password/);
    expect((badPassword as Error).message).not.toContain('wrong');

    const missing = new URL(shared.url);
    missing.pathname = '/no_such_database';
    const noDatabase = await new PostgresStore({ connectionString: missing.href }).open().catch((e) => e);
    expect(noDatabase).toBeInstanceOf(StoreConnectionError);
    expect(noDatabase).toMatchObject({ problem: 'missing_database' });
    expect((noDatabase as Error).message).toMatch(/no_such_database/);
  });
});

describe('PostgresStore scale-out writes', () => {
  let store: PostgresStore;
  let admin: pg.Client;

  beforeEach(async () => {
    admin = new pg.Client({ connectionString: shared.url });
    await admin.connect();
    await admin.query(
      'TRUNCATE braid.runs, braid.steps, braid.events, braid.cache, braid.semaphores, braid.semaphore_holders, braid.waits, braid.inbox, braid.forks, braid.stream_chunks',
    );
    store = new PostgresStore({ connectionString: shared.url });
    await store.open();
    store.setWorker('worker-a');
  });

  afterEach(async () => {
    await store.close();
    await admin.end();
  });

  const commit = (parts: Partial<WriteBatch>) => store.commit({ ...emptyBatch(), ...parts });
  const ownerOf = async (id: string) =>
    (await admin.query('SELECT owner_id FROM braid.runs WHERE id = $1', [id])).rows[0]?.owner_id;

  /** Collects notifications on `channel` until the test reads them. */
  async function listen(channel: string): Promise<{ payloads: () => Promise<string[]> }> {
    const client = new pg.Client({ connectionString: shared.url });
    await client.connect();
    const payloads: string[] = [];
    client.on('notification', (n) => {
      if (n.channel === channel) payloads.push(n.payload ?? '');
    });
    await client.query(`LISTEN ${channel}`);
    return {
      payloads: async () => {
        // A round trip on the listening connection: notifications sent before it have arrived.
        await client.query('SELECT 1');
        await client.end();
        return payloads;
      },
    };
  }

  it('localRuns sets owner_id; other new runs are left for any worker to claim', async () => {
    await commit({ newRuns: [makeRun({ id: 'mine' }), makeRun({ id: 'free' })], localRuns: new Set(['mine']) });
    expect(await ownerOf('mine')).toBe('worker-a');
    expect(await ownerOf('free')).toBeNull();
  });

  it("fencing: stream chunks of a run another worker owns are refused, alone in a batch too; the owner's land and are announced", async () => {
    await commit({
      newRuns: [makeRun({ id: 'mine', status: 'running' }), makeRun({ id: 'lost', status: 'running' })],
      localRuns: new Set(['mine', 'lost']),
    });
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'lost'`);
    const chunk = (runId: string, data: string) => ({ runId, step: 's', stream: 'default', attempt: 1, data, at: 1 });
    const chunks = [chunk('lost', '"late"'), chunk('mine', '"ok"')];
    const notices = await listen('braid_streams');
    // Chunks only: the runs they belong to are fenced even with no step, event or update beside them.
    const noticeUntil = Date.now() + 60_000;
    (store as unknown as { eventNoticesUntil: number }).eventNoticesUntil = noticeUntil;
    const result = await commit({ chunks });
    expect(result).toEqual({ duplicateRunIds: [], refusedRunIds: ['lost'] });
    expect(chunks[0]!).not.toHaveProperty('seq');
    expect(await store.listChunks({ runId: 'lost' })).toEqual([]);
    expect(await store.listChunks({ runId: 'mine' })).toEqual([chunks[1]]);
    expect(await notices.payloads()).toEqual(['mine']);
  });

  it('fencing: writes of a run another worker owns are refused; the rest of the batch lands', async () => {
    await commit({
      newRuns: [makeRun({ id: 'mine', status: 'running' }), makeRun({ id: 'lost', status: 'running' })],
      localRuns: new Set(['mine', 'lost']),
    });
    // Worker b took 'lost' over (worker a's lease expired).
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'lost'`);

    const events = [makeEvent('lost'), makeEvent('mine'), makeEvent('lost'), makeEvent('mine')];
    const result = await commit({
      runUpdates: [update('lost', 'succeeded'), update('mine', 'running', { checkpointSeq: 3 })],
      steps: [makeStep('lost', 'a'), makeStep('mine', 'a')],
      events,
      newRuns: [
        makeRun({ id: 'child-of-lost', parentRunId: 'lost', parentStep: 'a', spawnKey: 'k', rootRunId: 'lost' }),
      ],
      cache: [{ key: 'c', output: '1', createdAt: 1, expiresAt: null }],
    });
    expect(result).toEqual({ duplicateRunIds: [], refusedRunIds: ['lost'] });

    expect((await store.getRun('lost'))?.status).toBe('running');
    expect(await store.getSteps('lost')).toEqual([]);
    expect(await store.listEvents({ runId: 'lost' })).toEqual([]);
    expect(await store.getRun('child-of-lost')).toBeUndefined();
    expect(events[0]!.seq).toBeUndefined();

    expect((await store.getRun('mine'))?.checkpointSeq).toBe(3);
    expect(await store.getSteps('mine')).toHaveLength(1);
    expect(await store.listEvents({ runId: 'mine' })).toEqual([events[1], events[3]]);
    expect(events[3]!.seq).toBeGreaterThan(events[1]!.seq!);
    expect(await store.getCache('c', 0)).toBeDefined();
  });

  it('fencing: an update of a run that has ended is stale, not refused', async () => {
    await commit({ newRuns: [makeRun({ id: 'done', status: 'running' })], localRuns: new Set(['done']) });
    await commit({ runUpdates: [update('done', 'succeeded')] });
    const result = await commit({ runUpdates: [update('done', 'timed_out')], steps: [makeStep('done', 'a')] });
    expect(result).toEqual({ duplicateRunIds: [], refusedRunIds: [], staleRunIds: ['done'] });
    expect((await store.getRun('done'))?.status).toBe('succeeded');
    expect(await store.getSteps('done')).toEqual([]);
  });

  it('without a worker id nothing is fenced', async () => {
    await commit({ newRuns: [makeRun({ id: 'r', status: 'running' })] });
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'r'`);
    store.setWorker(null);
    expect(await commit({ runUpdates: [update('r', 'succeeded')] })).toEqual({ duplicateRunIds: [] });
    expect((await store.getRun('r'))?.status).toBe('succeeded');
  });

  it('a terminal update clears the owner and the request, frees the run’s slots and notifies braid_slots', async () => {
    await commit({ newRuns: [makeRun({ id: 'r', status: 'running' })], localRuns: new Set(['r']) });
    await admin.query(`UPDATE braid.runs SET requested_action = 'pause', requested_reason = 'x' WHERE id = 'r'`);
    await admin.query(
      `INSERT INTO braid.semaphore_holders (name, holder, worker_id) VALUES
         ('wf:tenant-1', 'r', NULL), ('pool:llm', 'r', 'worker-a'), ('wf:tenant-1', 'other', NULL)`,
    );
    const slots = await listen(SLOTS_CHANNEL);
    await commit({ runUpdates: [update('r', 'failed')] });
    const row = (await admin.query('SELECT owner_id, requested_action, requested_reason FROM braid.runs')).rows[0];
    expect(row).toEqual({ owner_id: null, requested_action: null, requested_reason: null });
    const holders = await admin.query('SELECT name, holder FROM braid.semaphore_holders ORDER BY name, holder');
    expect(holders.rows).toEqual([
      { name: 'pool:llm', holder: 'r' },
      { name: 'wf:tenant-1', holder: 'other' },
    ]);
    expect(await slots.payloads()).toEqual(['wf:tenant-1']);
  });

  it('a paused update keeps the owner (its running steps still commit) and the run’s slots', async () => {
    await commit({ newRuns: [makeRun({ id: 'r', status: 'running' })], localRuns: new Set(['r']) });
    await admin.query(`INSERT INTO braid.semaphore_holders (name, holder) VALUES ('wf:k', 'r')`);
    await commit({ runUpdates: [update('r', 'paused')] });
    expect(await ownerOf('r')).toBe('worker-a');
    expect((await admin.query('SELECT count(*)::int AS n FROM braid.semaphore_holders')).rows[0].n).toBe(1);
  });

  it('controls set requested_action and notify braid_control for owned runs, braid_ready for the others', async () => {
    await commit({
      newRuns: [
        makeRun({ id: 'owned', status: 'running' }),
        makeRun({ id: 'unowned', status: 'paused' }),
        makeRun({ id: 'running-free', status: 'running' }),
        makeRun({ id: 'done', status: 'succeeded' }),
      ],
    });
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'owned'`);
    const control = await listen('braid_control');
    const ready = await listen('braid_ready');
    await commit({
      controls: [
        { runId: 'owned', action: 'cancel', reason: 'parent cancelled' },
        { runId: 'unowned', action: 'resume', reason: null },
        { runId: 'running-free', action: 'resume', reason: null },
        { runId: 'done', action: 'cancel', reason: 'late' },
      ],
    });
    const requested = await admin.query(
      'SELECT id, requested_action, requested_reason FROM braid.runs ORDER BY id COLLATE "C"',
    );
    expect(requested.rows).toEqual([
      { id: 'done', requested_action: null, requested_reason: null },
      { id: 'owned', requested_action: 'cancel', requested_reason: 'parent cancelled' },
      { id: 'running-free', requested_action: null, requested_reason: null },
      { id: 'unowned', requested_action: 'resume', requested_reason: null },
    ]);
    expect(await control.payloads()).toEqual(['owned']);
    expect(await ready.payloads()).toEqual(['']);
  });

  it('new unowned runs notify braid_ready; local ones do not', async () => {
    const ready = await listen('braid_ready');
    await commit({ newRuns: [makeRun({ id: 'local' })], localRuns: new Set(['local']) });
    await commit({ newRuns: [makeRun({ id: 'free-1' }), makeRun({ id: 'free-2' })] });
    expect(await ready.payloads()).toEqual(['']);
  });

  it('braid_settled carries the runs moved to a terminal status or paused, in payloads under 7,900 bytes', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `settled-run-${String(i).padStart(4, '0')}-${'x'.repeat(20)}`);
    await commit({
      newRuns: [...ids, 'still-running'].map((id) => makeRun({ id, status: 'running' })),
      localRuns: new Set([...ids, 'still-running']),
    });
    const settled = await listen(SETTLED_CHANNEL);
    await commit({
      runUpdates: [
        ...ids.map((id, i) => update(id, i % 2 ? 'paused' : 'succeeded')),
        update('still-running', 'running'),
      ],
    });
    const payloads = await settled.payloads();
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(7900);
    expect(payloads.flatMap(decodeIds).sort()).toEqual([...ids].sort());
  });

  it('encodeIds splits long lists and decodeIds reads them back', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `run-${i}-${'y'.repeat(30)}`);
    const payloads = encodeIds(ids);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(7900);
    expect(payloads.flatMap(decodeIds)).toEqual(ids);
    expect(encodeIds([])).toEqual([]);
    expect(decodeIds('')).toEqual([]);
  });

  it('a run created and finished in one batch lands finished, unowned, and settles', async () => {
    const settled = await listen(SETTLED_CHANNEL);
    const run = makeRun({ id: 'quick' });
    await commit({ newRuns: [run], runUpdates: [update('quick', 'succeeded')], localRuns: new Set(['quick']) });
    expect((await store.getRun('quick'))?.status).toBe('succeeded');
    expect(await ownerOf('quick')).toBeNull();
    expect(await settled.payloads()).toEqual(['quick']);
  });
});

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function update(id: string, status: RunUpdate['status'], overrides: Partial<RunUpdate> = {}): RunUpdate {
  return {
    id,
    status,
    output: null,
    error: null,
    startedAt: 1,
    finishedAt: null,
    deadlineAt: null,
    globals: '{}',
    checkpointSeq: 0,
    wakeAt: null,
    pausedAt: null,
    ...overrides,
  };
}

function makeStep(runId: string, name: string): StepRecord {
  return {
    runId,
    name,
    status: 'succeeded',
    attempts: 1,
    output: '1',
    error: null,
    startedAt: 1,
    finishedAt: 2,
    nextAttemptAt: null,
    route: null,
    cacheHit: false,
    fallbackUsed: false,
  };
}

function makeEvent(runId: string): EventRecord {
  return { runId, step: null, type: 'run_started' as const, at: 1, attempt: null, data: null };
}

describe('PostgresStore waits across processes', () => {
  let a: PostgresStore;
  let b: PostgresStore;
  let admin: pg.Client;

  beforeEach(async () => {
    admin = new pg.Client({ connectionString: shared.url });
    await admin.connect();
    await admin.query(
      'TRUNCATE braid.runs, braid.steps, braid.events, braid.cache, braid.semaphore_holders, braid.waits, braid.inbox, braid.forks, braid.stream_chunks',
    );
    // Two pools, as two processes have.
    a = new PostgresStore({ connectionString: shared.url });
    b = new PostgresStore({ connectionString: shared.url });
    await Promise.all([a.open(), b.open()]);
  });

  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    await admin.end();
  });

  const commitTo = (store: PostgresStore, parts: Partial<WriteBatch>) => store.commit({ ...emptyBatch(), ...parts });
  const eventWait = (runId: string, overrides: Partial<WaitRecord> = {}): WaitRecord => ({
    runId,
    step: 's',
    key: 'event:order.paid#0',
    group: 'event:order.paid#0',
    kind: 'event',
    status: 'pending',
    dueAt: null,
    name: 'order.paid',
    eventKey: null,
    match: null,
    since: 0,
    afterSeq: null,
    request: null,
    value: null,
    createdAt: Date.now(),
    resolvedAt: null,
    ...overrides,
  });
  const event = (overrides: Partial<InboxEvent> = {}): InboxEvent => ({
    name: 'order.paid',
    key: null,
    payload: '{"ok":true}',
    idempotencyKey: null,
    createdAt: Date.now(),
    ...overrides,
  });
  const statusOf = async (runId: string) =>
    (await admin.query('SELECT status FROM braid.waits WHERE run_id = $1', [runId])).rows[0]?.status;

  it('a wait registered in one process and its event sent from another never miss each other', async () => {
    // Each pair races: the wait's commit and the event's commit run at the same time. Without the
    // lock on the event name, each transaction can miss the other's uncommitted row and the wait
    // stays pending with its event in the inbox.
    // Half the waits want their event's key, half any key with a payload field: each takes its own
    // locks (see waitLocks), and both must hold.
    // In waves of 10 pairs (each store's pool size): 60 at once queued for a connection past its
    // 5 s timeout when other suites loaded the database.
    const pairs = Array.from({ length: 60 }, (_, i) => `race-${i}`);
    const results = [];
    for (let wave = 0; wave < pairs.length; wave += 10) {
      results.push(
        ...(await Promise.all(
          pairs.slice(wave, wave + 10).map(async (runId, j) => {
            const i = wave + j;
            const keyed = i % 2 === 0;
            const [registered, sent] = await Promise.all([
              commitTo(a, {
                waits: [eventWait(runId, keyed ? { eventKey: runId } : { match: JSON.stringify({ run: runId }) })],
              }),
              commitTo(b, {
                inbox: [event(keyed ? { key: runId } : { payload: JSON.stringify({ run: runId }) })],
              }),
            ]);
            return { runId, settled: [...(registered.settledWaits ?? []), ...(sent.settledWaits ?? [])] };
          }),
        )),
      );
    }
    for (const { runId, settled } of results) {
      expect(await statusOf(runId)).toBe('resolved');
      // Settled once, by whichever commit came second.
      expect(settled.map((w) => `${w.runId}:${w.status}`)).toEqual([`${runId}:resolved`]);
    }
  });

  it("an event's commit sends COMMIT with the statements that settle its waits: two round trips, not three", async () => {
    await commitTo(a, { waits: [eventWait('w')] });
    // What b's connections send and hear, in order (pg's pipeline mode: a query goes out at once).
    const order: string[] = [];
    const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
    const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (
      this: pg.Client,
      ...args: unknown[]
    ) {
      const config = args[0] as string | { name?: string };
      const label = typeof config === 'string' ? config : config.name;
      const result = query.apply(this, args);
      if (label === 'COMMIT' || label === 'braid_settle_waits') {
        order.push(`${label} sent`);
        (result as Promise<unknown>).then(() => order.push(`${label} answered`));
      }
      return result as never;
    });
    let sent: Awaited<ReturnType<typeof commitTo>>;
    try {
      sent = await commitTo(b, { inbox: [event()] });
    } finally {
      spy.mockRestore();
    }
    expect(sent.settledWaits?.map((w) => `${w.runId}:${w.status}`)).toEqual(['w:resolved']);
    expect(order).toEqual(['braid_settle_waits sent', 'COMMIT sent', 'braid_settle_waits answered', 'COMMIT answered']);
    expect(await statusOf('w')).toBe('resolved');
  });

  it('one waiter, events sent for it from two processes at once: resolved once, by one of them', async () => {
    await commitTo(a, { waits: [eventWait('w')] });
    const first = event({ payload: '{"from":"a"}' });
    const second = event({ payload: '{"from":"b"}' });
    const [ra, rb] = await Promise.all([commitTo(a, { inbox: [first] }), commitTo(b, { inbox: [second] })]);
    const delivered = [...(ra.settledWaits ?? []), ...(rb.settledWaits ?? [])];
    expect(delivered).toHaveLength(1);
    const [stored] = await a.getWaits('w');
    expect(stored).toEqual(delivered[0]);
    expect(await a.listInbox({})).toHaveLength(2);
  });

  it('an event and the owner timing the wait out at the same instant: one outcome, and the loser is told', async () => {
    for (let i = 0; i < 20; i++) {
      const runId = `t-${i}`;
      // Keyed: each wait's look-back must not find the events of the earlier rounds.
      const wait = eventWait(runId, { dueAt: Date.now(), eventKey: runId });
      await commitTo(a, { waits: [wait] });
      const [timedOut, sent] = await Promise.all([
        commitTo(a, { waits: [{ ...wait, status: 'timed_out', resolvedAt: Date.now() }] }),
        commitTo(b, { inbox: [event({ key: runId })] }),
      ]);
      const [stored] = await a.getWaits(runId);
      if (stored?.status === 'resolved') {
        // The event won: the owner's later write lost, and its commit says what stands.
        expect(sent.settledWaits).toEqual([stored]);
        expect(timedOut.settledWaits).toEqual([stored]);
      } else {
        expect(stored?.status).toBe('timed_out');
        expect(sent.settledWaits).toBeUndefined();
        expect(timedOut.settledWaits).toBeUndefined();
      }
    }
  });

  it('one idempotency key sent from two processes at once is recorded once; the other send is a duplicate with its seq', async () => {
    await commitTo(a, { waits: [eventWait('w', { since: 0 })] });
    const one = event({ idempotencyKey: 'webhook-1' });
    const two = event({ idempotencyKey: 'webhook-1' });
    const [ra, rb] = await Promise.all([commitTo(a, { inbox: [one] }), commitTo(b, { inbox: [two] })]);
    expect(one.seq).toBe(two.seq);
    expect([ra.duplicateEvents?.length ?? 0, rb.duplicateEvents?.length ?? 0].sort()).toEqual([0, 1]);
    expect([...(ra.settledWaits ?? []), ...(rb.settledWaits ?? [])]).toHaveLength(1);
    expect(await a.listInbox({})).toHaveLength(1);
  });

  it('fencing: the waits of a run another worker owns are refused with its other writes', async () => {
    await commitTo(a, {
      newRuns: [makeRun({ id: 'mine', status: 'running' }), makeRun({ id: 'lost', status: 'running' })],
      localRuns: new Set(['mine', 'lost']),
    });
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'lost'`);
    a.setWorker('worker-a');
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-a' WHERE id = 'mine'`);
    const result = await commitTo(a, {
      waits: [
        eventWait('lost', { key: 'sleep#0', kind: 'sleep' }),
        eventWait('mine', { key: 'sleep#0', kind: 'sleep' }),
      ],
    });
    expect(result.refusedRunIds).toEqual(['lost']);
    expect(await a.getWaits('lost')).toEqual([]);
    expect(await a.getWaits('mine')).toHaveLength(1);
  });

  it('tells the owner of a run held in memory on braid_waits, and announces a sleeping run on braid_ready, at commit', async () => {
    await commitTo(a, {
      newRuns: [
        makeRun({ id: 'held', status: 'waiting' }),
        makeRun({ id: 'asleep', status: 'waiting', wakeAt: Number.MAX_SAFE_INTEGER }),
      ],
    });
    await admin.query(`UPDATE braid.runs SET owner_id = 'worker-b' WHERE id = 'held'`);
    await commitTo(a, { waits: [eventWait('held'), eventWait('asleep')] });
    const waits = await listenOn(WAITS_CHANNEL);
    const ready = await listenOn(READY_CHANNEL);
    const before = Date.now();
    const sent = await commitTo(a, { inbox: [event()] });
    expect(sent.settledWaits?.map((w) => w.runId).sort()).toEqual(['asleep', 'held']);
    expect(await waits.payloads()).toEqual(['held']);
    expect(await ready.payloads()).toEqual(['']);
    const rows = await admin.query('SELECT id, wake_at FROM braid.runs ORDER BY id COLLATE "C"');
    expect(rows.rows[1]).toEqual({ id: 'held', wake_at: null });
    // Due now, by the database's clock (the same host's).
    expect(Number(rows.rows[0].wake_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Number(rows.rows[0].wake_at)).toBeLessThanOrEqual(Date.now());
  });
});

describe('PostgresStore runs handed back asleep', () => {
  let store: PostgresStore;
  let admin: pg.Client;
  let workerId: string;
  const WF = [{ name: 'wf', version: '1' }];

  beforeEach(async () => {
    admin = new pg.Client({ connectionString: shared.url });
    await admin.connect();
    await admin.query(
      'TRUNCATE braid.runs, braid.steps, braid.events, braid.cache, braid.workers, braid.semaphore_holders, braid.waits, braid.inbox, braid.forks, braid.stream_chunks',
    );
    store = new PostgresStore({ connectionString: shared.url });
    await store.open();
    workerId = await coordination().registerWorker(WF, 30_000);
  });

  afterEach(async () => {
    await store.close();
    await admin.end();
  });

  const coordination = () => store.coordination as NonNullable<PostgresStore['coordination']>;
  const commit = (parts: Partial<WriteBatch>) => store.commit({ ...emptyBatch(), ...parts });
  /** The database's clock plus `ms`, as the SQL the store compares wake_at with. */
  const dbNowPlus = async (ms: number) =>
    Number((await admin.query(`SELECT (extract(epoch from now()) * 1000)::bigint + $1 AS t`, [ms])).rows[0].t);
  const waitingStep = (runId: string): StepRecord => ({
    ...makeStep(runId, 's'),
    status: 'waiting',
    output: null,
    finishedAt: null,
  });
  const sleepWait = (runId: string, dueAt: number): WaitRecord => ({
    runId,
    step: 's',
    key: 'sleep#0',
    group: 'sleep#0',
    kind: 'sleep',
    status: 'pending',
    dueAt,
    name: null,
    eventKey: null,
    match: null,
    since: null,
    afterSeq: null,
    request: null,
    value: null,
    createdAt: Date.now(),
    resolvedAt: null,
  });
  /** A pending wait of the run's step 's' for the event 'e'. */
  const eventWait = (runId: string): WaitRecord => ({
    ...sleepWait(runId, Number.MAX_SAFE_INTEGER),
    kind: 'event',
    key: 'event:e#0',
    group: 'event:e#0',
    name: 'e',
    dueAt: null,
    since: 0,
  });

  it('claims a sleeping run only once its wake_at has come by the database clock, with its steps and waits', async () => {
    const past = await dbNowPlus(-50);
    const future = await dbNowPlus(60_000);
    await commit({
      newRuns: [
        makeRun({ id: 'due', status: 'waiting', wakeAt: past }),
        makeRun({ id: 'later', status: 'waiting', wakeAt: future }),
        makeRun({ id: 'event-only', status: 'waiting', wakeAt: Number.MAX_SAFE_INTEGER }),
        makeRun({ id: 'awake', status: 'running' }),
      ],
      steps: ['due', 'later', 'event-only'].map(waitingStep),
      waits: [sleepWait('due', past), sleepWait('later', future)],
    });
    const claimed = await coordination().claimRuns(workerId, WF, 10);
    // The late sleeper first: it is due already.
    expect(claimed.map((c) => c.run.id)).toEqual(['due', 'awake']);
    const due = claimed[0]!;
    expect(due.steps.map((s) => [s.name, s.status])).toEqual([['s', 'waiting']]);
    expect(due.waits.map((w) => [w.key, w.status, w.dueAt])).toEqual([['sleep#0', 'pending', past]]);
    expect(claimed[1]!.waits).toEqual([]);
    expect(await coordination().nextWakeIn(['wf'])).toBeGreaterThan(55_000);
    expect(await coordination().nextWakeIn(['other'])).toBeNull();
  });

  it("a claim carries the child links of its runs' unfinished steps that ran before (none too), not of the others", async () => {
    const child = (id: string, step: string, status: RunRecord['status']) =>
      makeRun({ id, parentRunId: 'p', parentStep: step, spawnKey: `key-${id}`, rootRunId: 'p', status, createdAt: 1 });
    await commit({
      newRuns: [
        makeRun({ id: 'p', status: 'running' }),
        { ...child('c1', 'fan', 'succeeded'), output: '"one"' },
        child('c2', 'fan', 'running'),
        child('c3', 'done', 'succeeded'),
      ],
      steps: [
        { ...makeStep('p', 'fan'), status: 'running', output: null, finishedAt: null },
        { ...makeStep('p', 'quiet'), status: 'waiting', output: null, finishedAt: null },
        makeStep('p', 'done'),
        { ...makeStep('p', 'never'), status: 'pending', attempts: 0, output: null, finishedAt: null },
      ],
    });
    // Children are claimable runs too: owned elsewhere, so that only the parent is claimed here.
    await admin.query(`UPDATE braid.runs SET owner_id = 'elsewhere' WHERE id <> 'p'`);
    const [claimed] = await coordination().claimRuns(workerId, WF, 10);
    expect(claimed?.run.id).toBe('p');
    const links = Object.fromEntries((claimed?.childLinks ?? []).map((s) => [s.step, s.links]));
    expect(links).toEqual({
      fan: [
        { spawnKey: 'key-c1', runId: 'c1', workflow: 'wf', status: 'succeeded', output: '"one"', error: null },
        { spawnKey: 'key-c2', runId: 'c2', workflow: 'wf', status: 'running', output: null, error: null },
      ],
      quiet: [],
    });
    expect(links.fan).toEqual(await store.getChildLinks('p', 'fan'));
  });

  it('a claim reads its runs with a snapshot taken once they are locked: a wait settled after the claim began is read settled', async () => {
    // claimRuns is one statement, whose own snapshot predates its locks (FOR UPDATE SKIP LOCKED).
    // A wait settled after that snapshot but before the run was locked must not be read pending:
    // its event told braid_ready (the run had no owner), not this worker. Here the claim is held
    // after its locks and the wait settled meanwhile: what the claim reads must include it.
    const past = await dbNowPlus(-50);
    await commit({
      newRuns: [makeRun({ id: 'r', status: 'waiting', wakeAt: past })],
      steps: [waitingStep('r')],
      waits: [sleepWait('r', past)],
    });
    const hold = await holdClaimsAfterTheirLocks(admin);
    let claim: Promise<ClaimedRun[]> | undefined;
    try {
      claim = coordination().claimRuns(workerId, WF, 10);
      await hold.blocked();
      // Settled by another transaction that commits while the claim runs (as if before its lock).
      const other = new pg.Client({ connectionString: shared.url });
      await other.connect();
      await other.query(
        `UPDATE braid.waits SET status = 'resolved', value = '"v"', resolved_at = 1 WHERE run_id = 'r'`,
      );
      await other.end();
    } finally {
      await hold.release();
    }
    const [claimed, ...more] = await claim;
    expect(more).toEqual([]);
    expect(claimed?.run.id).toBe('r');
    expect(claimed?.waits.map((w) => [w.key, w.status, w.value])).toEqual([['sleep#0', 'resolved', '"v"']]);
    // Read as getRunStates reads them (the records loading a run gets).
    const states = await getRunStates(store.pool, ['r']);
    expect(claimed?.steps).toEqual(states.get('r')?.steps);
    expect(claimed?.waits).toEqual(states.get('r')?.waits);
  });

  it('an event settling a wait of a run being claimed waits for the claim, then tells the new owner on braid_waits', async () => {
    await commit({
      newRuns: [makeRun({ id: 'r', status: 'waiting', wakeAt: await dbNowPlus(-50) })],
      steps: [waitingStep('r')],
      waits: [eventWait('r')],
    });
    const waits = await listenOn(WAITS_CHANNEL);
    const ready = await listenOn(READY_CHANNEL);
    const hold = await holdClaimsAfterTheirLocks(admin);
    let claim: Promise<ClaimedRun[]> | undefined;
    let sent: Promise<unknown> | undefined;
    let isSent = false;
    let wasSentWhileHeld = true;
    try {
      claim = coordination().claimRuns(workerId, WF, 10);
      await hold.blocked();
      sent = commit({
        inbox: [{ name: 'e', key: null, payload: '{}', idempotencyKey: null, createdAt: Date.now() }],
      }).then(() => {
        isSent = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      wasSentWhileHeld = isSent;
    } finally {
      await hold.release();
    }
    const claimed = await claim;
    await sent;
    // The event's commit queued behind the claim's lock on the run (lockRunsOfWaits).
    expect(wasSentWhileHeld).toBe(false);
    expect(claimed.map((c) => c.waits.map((w) => w.status))).toEqual([['pending']]);
    expect(await waits.payloads()).toEqual(['r']);
    expect(await ready.payloads()).toEqual([]);
  });

  it('a hand-back announces the earliest wake-up on braid_asleep, in ms by the database clock', async () => {
    const wakeAt = await dbNowPlus(30_000);
    await commit({
      newRuns: [
        makeRun({ id: 'r1', status: 'waiting', wakeAt }),
        makeRun({ id: 'r2', status: 'waiting', wakeAt: wakeAt + 5_000 }),
      ],
      steps: ['r1', 'r2'].map(waitingStep),
      waits: [sleepWait('r1', wakeAt), sleepWait('r2', wakeAt + 5_000)],
      localRuns: new Set(['r1', 'r2']),
    });
    await admin.query('UPDATE braid.runs SET owner_id = $1', [workerId]);
    const asleep = await listenOn('braid_asleep');
    const ready = await listenOn(READY_CHANNEL);
    await coordination().releaseRuns(workerId, ['r1', 'r2']);
    const [inMs, ...more] = (await asleep.payloads()).map(Number);
    expect(more).toEqual([]);
    expect(inMs).toBeGreaterThan(29_000);
    expect(inMs).toBeLessThanOrEqual(30_000);
    expect(await ready.payloads()).toEqual([]);
    const rows = await admin.query('SELECT owner_id, wake_at FROM braid.runs ORDER BY id COLLATE "C"');
    expect(rows.rows.map((r) => [r.owner_id, Number(r.wake_at)])).toEqual([
      [null, wakeAt],
      [null, wakeAt + 5_000],
    ]);
  });

  it('a hand-back makes a run due at once when its waiting step had every wait settled meanwhile', async () => {
    // The owner wrote wake_at (far off: only the event wakes it), an event settled the wait and
    // told the owner, and the owner, having let the run go, writes its wake-up time last.
    await commit({
      newRuns: [makeRun({ id: 'r', status: 'waiting', wakeAt: Number.MAX_SAFE_INTEGER })],
      steps: [waitingStep('r')],
      waits: [eventWait('r')],
    });
    await admin.query('UPDATE braid.runs SET owner_id = $1', [workerId]);
    const sent = await commit({
      inbox: [{ name: 'e', key: null, payload: '{}', idempotencyKey: null, createdAt: Date.now() }],
    });
    expect(sent.settledWaits?.map((w) => w.status)).toEqual(['resolved']);
    await admin.query('UPDATE braid.runs SET wake_at = $1', [Number.MAX_SAFE_INTEGER]);
    const ready = await listenOn(READY_CHANNEL);
    await coordination().releaseRuns(workerId, ['r']);
    expect(await ready.payloads()).toEqual(['']);
    const wakeAt = Number((await admin.query('SELECT wake_at FROM braid.runs')).rows[0].wake_at);
    expect(wakeAt).toBeLessThanOrEqual(await dbNowPlus(0));
    expect((await coordination().claimRuns(workerId, WF, 10)).map((c) => c.run.id)).toEqual(['r']);
  });

  it('reaping a dead worker hands its runs back as a hand-back does: settled ones due, asleep ones announced', async () => {
    const dead = await coordination().registerWorker(WF, 1);
    const wakeAt = await dbNowPlus(20_000);
    await commit({
      newRuns: [
        makeRun({ id: 'settled', status: 'waiting', wakeAt: Number.MAX_SAFE_INTEGER }),
        makeRun({ id: 'asleep', status: 'waiting', wakeAt }),
      ],
      steps: [waitingStep('settled'), waitingStep('asleep')],
      waits: [{ ...sleepWait('settled', 1), status: 'resolved', resolvedAt: 1 }, sleepWait('asleep', wakeAt)],
    });
    await admin.query('UPDATE braid.runs SET owner_id = $1', [dead]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const asleep = await listenOn('braid_asleep');
    const ready = await listenOn(READY_CHANNEL);
    expect(await coordination().reapExpiredWorkers()).toEqual([dead]);
    expect(await ready.payloads()).toEqual(['']);
    const [inMs] = (await asleep.payloads()).map(Number);
    expect(inMs).toBeGreaterThan(19_000);
    expect((await coordination().claimRuns(workerId, WF, 10)).map((c) => c.run.id)).toEqual(['settled']);
  });
});

/** Collects notifications on `channel` until the test reads them. */
async function listenOn(channel: string): Promise<{ payloads: () => Promise<string[]> }> {
  const client = new pg.Client({ connectionString: shared.url });
  await client.connect();
  const payloads: string[] = [];
  client.on('notification', (n) => {
    if (n.channel === channel) payloads.push(n.payload ?? '');
  });
  await client.query(`LISTEN ${channel}`);
  return {
    payloads: async () => {
      await client.query('SELECT 1');
      await client.end();
      return payloads;
    },
  };
}
