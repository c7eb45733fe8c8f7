import type pg from 'pg';
import type { InboxEvent, InputResolution, WaitRecord } from '../types.js';
import { eventMatchesWait, eventValue } from '../waitMatching.js';
import { lockRunsOfWaits } from './queries/lockRunsOfWaits.js';
import {
  LOOK_BACK_PAGE,
  type LookBack,
  readPendingEventWaits,
  readsPendingEventWaitsOnly,
  readWaitCandidates,
  type WaitCandidates,
  type WaitKey,
} from './queries/readWaitCandidates.js';
import { type Resolution, settleWaits } from './queries/settleWaits.js';

/** The waits, events and inputs of a batch, read from it before the commit's first await. */
export interface WaitWrites {
  /** Copies of the batch's waits, one per (run, step, key): the later record wins. */
  waits: WaitRecord[];
  /** The batch's events in order: the caller's object, a copy, and for a repeat of an idempotency key within the batch, the index of its first. */
  inbox: Array<{ event: InboxEvent; copy: InboxEvent; firstIndex: number | null }>;
  /** The batch's input values: the caller's object and a copy. */
  inputs: Array<{ input: InputResolution; copy: InputResolution }>;
}

/** What the statement that wrote the batch says about its waits and events. */
export interface WrittenWaits {
  /** Waits the upsert wrote (new, or pending before), as `waitId`s. */
  waits: ReadonlySet<string>;
  /** Runs none of whose writes landed (refused, ended, children of those). */
  blocked: ReadonlySet<string>;
  /** [seq, idempotency key] of each event the inbox took, in seq order (= batch order). */
  inserted: ReadonlyArray<[number, string | null]>;
}

export interface DeliveredWaits {
  settledWaits: WaitRecord[];
  duplicateEvents: InboxEvent[];
  unmatchedInputs: InputResolution[];
  /** The seq of each of the batch's events, to set on them once the transaction commits. */
  inboxSeqs: Map<InboxEvent, number>;
}

/**
 * Settles what the batch's waits, events and inputs settle, inside the commit's transaction, with
 * the rule of every store (the inbox first; a new event wait looks back; a new event resolves the
 * waits it matches, each once; an input resolves the oldest pending input of its name; each
 * resolution settles its whole group) and the same order as the SQLite store. Candidates are read
 * in one statement and matched here with waitMatching.ts, the one matching rule, rather than
 * translated into SQL; the resolutions are then written with a compare-and-set, so a wait another
 * transaction settled meanwhile (its owner timing it out) is not settled twice.
 */
export async function deliverWaits(
  client: pg.PoolClient,
  writes: WaitWrites,
  written: WrittenWaits,
  early?: WaitCandidates,
  commit?: () => Promise<void>,
): Promise<DeliveredWaits> {
  const inboxSeqs = new Map<InboxEvent, number>();
  const duplicateEvents: InboxEvent[] = [];
  // Seqs come back ascending, and the inbox took the batch's first copies in batch order.
  const insertedKeys = new Set(written.inserted.map(([, key]) => key).filter((k) => k !== null));
  const fresh: Array<Required<InboxEvent>> = [];
  const duplicateKeys = new Set<string>();
  let next = 0;
  for (const { copy, firstIndex } of writes.inbox) {
    const key = copy.idempotencyKey;
    if (firstIndex === null && (key === null || insertedKeys.has(key))) {
      const seq = written.inserted[next++]?.[0] as number;
      fresh.push({ ...copy, seq } as Required<InboxEvent>);
    } else duplicateKeys.add(key as string);
  }

  const refused: WaitKey[] = [];
  const registered: WaitRecord[] = [];
  for (const wait of writes.waits) {
    if (written.blocked.has(wait.runId)) continue;
    if (!written.waits.has(waitId(wait))) refused.push(wait);
    else if (wait.kind === 'event' && wait.status === 'pending' && wait.name !== null) registered.push(wait);
  }
  const lookBacks = registered.map(
    (w, index): LookBack => ({
      index,
      name: w.name as string,
      afterCreatedAt: w.since ?? 0,
      eventKey: w.eventKey,
      afterSeq: 0,
      minSeq: w.afterSeq ?? 0,
    }),
  );
  const inputPairs = new Map<string, { runId: string; name: string }>();
  for (const { copy } of writes.inputs) inputPairs.set(`${copy.runId}\u0000${copy.name}`, copy);
  const query = {
    refused,
    duplicateKeys: [...duplicateKeys],
    lookBacks,
    events: fresh,
    inputs: [...inputPairs.values()],
  };
  // `early`: the pending waits of all the batch's events, read right behind the batch's statement
  // (readEarly). It is this read when the batch turned out to need no other: the new events are
  // some of the batch's, and candidates for the others are never matched (only `fresh` is).
  const read = early && readsPendingEventWaitsOnly(query) ? early : await readWaitCandidates(client, query);

  // The batch's events that the inbox already had (or that repeat a key within the batch).
  const seqOfKey = new Map(read.duplicateSeqs.map((d) => [d.key, d.seq]));
  let freshIndex = 0;
  const seqOfIndex: number[] = [];
  writes.inbox.forEach(({ event, copy, firstIndex }, i) => {
    const key = copy.idempotencyKey;
    let seq: number | undefined;
    if (firstIndex !== null) seq = seqOfIndex[firstIndex];
    else if (key === null || insertedKeys.has(key)) seq = fresh[freshIndex++]?.seq;
    else seq = seqOfKey.get(key);
    if (seq !== undefined) {
      seqOfIndex[i] = seq;
      inboxSeqs.set(event, seq);
    }
    if (firstIndex !== null || (key !== null && !insertedKeys.has(key))) duplicateEvents.push(event);
  });

  const plan = new Plan(read.now);
  // New event waits look back in the inbox (page by page, until one matches or none is left).
  let pages = read.lookedBack;
  let open = registered.map((w, index) => ({ wait: w, lookBack: lookBacks[index] as LookBack }));
  while (open.length) {
    const byIndex = new Map<number, Array<Required<InboxEvent>>>();
    for (const { index, event } of pages) {
      const list = byIndex.get(index);
      if (list) list.push(event);
      else byIndex.set(index, [event]);
    }
    const again: typeof open = [];
    for (const item of open) {
      const events = byIndex.get(item.lookBack.index) ?? [];
      const found = events.find(
        (e) => !plan.isSettled(item.wait) && eventMatchesWait(item.wait, e, JSON.parse(e.payload)),
      );
      if (found) plan.resolve(item.wait, eventValue(found), read.now);
      else if (events.length === LOOK_BACK_PAGE && !plan.isSettled(item.wait)) {
        const last = events.at(-1) as Required<InboxEvent>;
        again.push({
          wait: item.wait,
          lookBack: { ...item.lookBack, afterCreatedAt: last.createdAt, afterSeq: last.seq },
        });
      }
    }
    open = again;
    if (open.length)
      pages = (
        await readMoreLookBack(
          client,
          open.map((o) => o.lookBack),
        )
      ).lookedBack;
  }
  // New events resolve the pending waits they match, oldest waits first.
  const pending = read.pending.sort(byAge);
  for (const event of fresh) {
    const payload = JSON.parse(event.payload);
    for (const wait of pending) {
      if (!plan.isSettled(wait) && eventMatchesWait(wait, event, payload))
        plan.resolve(wait, eventValue(event), read.now);
    }
  }
  // Each input resolves the oldest input of its name still pending on its run.
  const asked = read.asked.sort(byInputAge);
  const inputOf = new Map<Resolution, InputResolution>();
  const unmatchedInputs: InputResolution[] = [];
  for (const { input, copy } of writes.inputs) {
    const wait = asked.find((w) => w.runId === copy.runId && w.name === copy.name && !plan.isSettled(w));
    if (!wait) {
      unmatchedInputs.push(input);
      continue;
    }
    inputOf.set(plan.resolve(wait, copy.value, copy.at), input);
  }

  // Sent together (pipelined), run in this order: the runs are locked before their waits are
  // settled, and the transaction commits (`commit`: the caller sends nothing after this), in one
  // round trip: the round trip they took before COMMIT was 0.9-1.3 ms of sendEvent's p50 in W10's
  // phase table (load 3-5). Nothing here may throw once COMMIT is out.
  const [, { resolved, cancelled }] = await Promise.all([
    lockRunsOfWaits(client, [...new Set(plan.resolutions.map((r) => r.runId))].sort()),
    settleWaits(client, plan.resolutions, read.now),
    commit?.(),
  ]);
  const landed = new Map(resolved.map((w) => [waitId(w), w]));
  const settledWaits = [...read.stored];
  for (const resolution of plan.resolutions) {
    const wait = landed.get(waitId(resolution));
    if (!wait) {
      // Settled by another transaction first (its timeout, say): this value resolved nothing.
      const input = inputOf.get(resolution);
      if (input) unmatchedInputs.push(input);
      continue;
    }
    settledWaits.push(wait);
    for (const other of cancelled) {
      if (other.runId === wait.runId && other.step === wait.step && other.group === wait.group)
        settledWaits.push(other);
    }
  }
  return { settledWaits, duplicateEvents, unmatchedInputs, inboxSeqs };
}

/**
 * For a batch of events and nothing else to settle (sendEvent), the read its delivery will most
 * likely need, sent with the batch's statement instead of a round trip after it (the pool
 * pipelines): the pending event waits of the batch's events. Run after that statement, it sees
 * the batch's writes and, the wait keys being locked before, every commit of a conflicting wait.
 * Undefined when the batch registers waits or gives inputs, whose reads depend on what the
 * statement wrote. deliverWaits uses it only if the batch turned out to need nothing else (no
 * event a repeat of an idempotency key).
 */
export function readEarly(client: pg.PoolClient, writes: WaitWrites): Promise<WaitCandidates> | undefined {
  if (!writes.inbox.length || writes.waits.length || writes.inputs.length) return undefined;
  return readPendingEventWaits(
    client,
    writes.inbox.map(({ copy }) => ({ name: copy.name, key: copy.key })),
  );
}

/** The next pages of look-backs that found no match in the first. */
function readMoreLookBack(client: pg.PoolClient, lookBacks: readonly LookBack[]): Promise<WaitCandidates> {
  return readWaitCandidates(client, { refused: [], duplicateKeys: [], lookBacks, events: [], inputs: [] });
}

/** The resolutions decided so far: a wait, and its group, resolve once. */
class Plan {
  readonly resolutions: Resolution[] = [];
  private readonly settledGroups = new Set<string>();

  constructor(readonly now: number) {}

  isSettled(wait: WaitRecord): boolean {
    return this.settledGroups.has(groupId(wait));
  }

  resolve(wait: WaitRecord, value: string, at: number): Resolution {
    this.settledGroups.add(groupId(wait));
    const resolution = { runId: wait.runId, step: wait.step, key: wait.key, value, at };
    this.resolutions.push(resolution);
    return resolution;
  }
}

export function waitId(w: { runId: string; step: string; key: string }): string {
  return `${w.runId}\u0000${w.step}\u0000${w.key}`;
}

function groupId(w: WaitRecord): string {
  return `${w.runId}\u0000${w.step}\u0000${w.group}`;
}

/** Oldest first, then by identity (code-unit order, as the stores sort ids). */
function byAge(a: WaitRecord, b: WaitRecord): number {
  return a.createdAt - b.createdAt || compare(a.runId, b.runId) || compare(a.step, b.step) || compare(a.key, b.key);
}

/** Oldest first, then by key, as the other stores pick the input a value resolves. */
function byInputAge(a: WaitRecord, b: WaitRecord): number {
  return a.createdAt - b.createdAt || compare(a.key, b.key) || compare(a.step, b.step);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
