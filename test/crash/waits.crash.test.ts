/**
 * SIGKILL while runs sleep and wait: a worker process (waits.worker.ts) runs RUNS runs that sleep
 * twice, wait for an event and then for a person's input; this test is the driver that sends those
 * events and inputs (each as soon as the worker reports the wait, after a random delay, sometimes
 * twice, as a retried webhook would) and kills the worker at random moments, KILLS times, then lets
 * a last life finish. Replay a sequence with BRAID_CRASH_SEED=<seed>.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, type WaitRecord } from '../../src/index.js';
import { readStore, seededRandom, stepHistory } from './harness.js';
import {
  napMsOf,
  outputOf,
  readWaitsLog,
  SECOND_SLEEP_MS,
  type SendOutcome,
  type SendRequest,
  startWaitsWorker,
  WAITS_WORKFLOW,
  type WaitsLogLine,
  type WaitsSummary,
  type WaitsWorker,
  type WaitsWorkerConfig,
  type WorkerMessage,
} from './waits.harness.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-crash-waits-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const RUNS = 24;
const KILLS = 6;
/**
 * How late a wake-up may be after max(its deadline, the boot of the life that woke it): the time
 * to open the store, recover and scan, on a loaded 2-core machine. Shorter than any sleep (1.5 s
 * and more), so a sleep that started again from zero after a restart shows up as late.
 */
const WAKE_SLACK_MS = 1000;

const seed = Number(process.env.BRAID_CRASH_SEED ?? Date.now() % 1_000_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`SIGKILL while runs sleep and wait for events and inputs, ${KILLS} times (seed ${seed})`, () => {
  it('every run ends once with its event and input, every sleep wakes on time, no event is delivered twice, no finished step runs again', async () => {
    const random = seededRandom(seed);
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const config: WaitsWorkerConfig = {
      dbPath: path.join(dir, 'waits.db'),
      logPath: path.join(dir, 'waits.log'),
      summaryPath: path.join(dir, 'summary.json'),
      runs: RUNS,
      life: 0,
    };

    // The driver's book: every request sent, to which life, and what came back (if the life lived).
    const sent: Array<SendRequest & { life: number; key: string; outcome?: SendOutcome }> = [];
    const inFlight = new Set<string>();
    const done = new Set<string>();
    let nextId = 1;
    let worker: WaitsWorker | undefined;
    let life = 0;
    /** Set in the lives that are killed just after a send: arms that kill. */
    let killAfterSend: (() => void) | undefined;

    const request = (target: WaitsWorker, kind: 'event' | 'input', i: number, key: string) => {
      if (worker !== target || !target.child.connected) return false;
      const message: SendRequest = { type: 'send', id: nextId++, kind, i };
      sent.push({ ...message, life, key });
      // The life may be killed while the message is on its way (connected a moment ago): the send
      // then fails with EPIPE, which is the same loss as a request the kill cut off, and the book
      // already counts it as sent with no outcome. Without a callback it is an uncaught error.
      target.child.send(message, () => {});
      killAfterSend?.();
      killAfterSend = undefined;
      return true;
    };
    const onMessage = (message: WorkerMessage) => {
      const target = worker as WaitsWorker;
      if (message.type === 'pending') {
        // An event per run; an input per occurrence the worker reports (its wait key).
        const wanted = [
          ...message.events.map((i) => ({ kind: 'event' as const, i, key: `event:${i}` })),
          ...message.inputs.map((w) => ({ kind: 'input' as const, i: w.i, key: `input:${w.i}:${w.key}` })),
        ];
        for (const { kind, i, key } of wanted) {
          if (done.has(key) || inFlight.has(key)) continue;
          // Run 0's inputs wait for the last life, so no earlier life can end the work by itself
          // (on a slow machine the rest can finish within the killed lives).
          if (kind === 'input' && i === 0 && life < KILLS) continue;
          inFlight.add(key);
          setTimeout(
            () => {
              if (!request(target, kind, i, key)) inFlight.delete(key);
              // A retried webhook, a double click: sometimes the same thing is sent again.
              else if (random() < 0.3) setTimeout(() => request(target, kind, i, key), between(0, 200));
            },
            between(300, 1500),
          );
        }
      } else if (message.type === 'sent') {
        const entry = sent.find((s) => s.id === message.id);
        if (!entry) return;
        entry.outcome = message.outcome;
        inFlight.delete(entry.key);
        if (message.outcome.ok) done.add(entry.key);
      }
    };
    const startLife = () => {
      inFlight.clear(); // requests to the last life died with it: send them again when asked
      const started = startWaitsWorker({ ...config, life }, onMessage);
      worker = started;
      return started;
    };

    // Even lives are killed 0.5-3 s after they have recovered (loading the code takes 1-3 s more),
    // the first 2.5-4 s after (amid the sleeps, some of which it ends and some it leaves behind);
    // odd ones 0-2 ms after the driver's first send to them (while the worker commits it), or after
    // 1.5 s if none comes. No killed life can end the work by itself: run 0's inputs are sent to
    // the last life only, so every one of the KILLS lives really dies by SIGKILL.
    for (; life < KILLS; life++) {
      const current = startLife();
      const runIds = await current.ready;
      if (!runIds) throw new Error(`life ${life} exited before it was ready:\n${current.stderr()}`);
      const kill =
        life % 2 === 0
          ? sleep(life === 0 ? between(2500, 4000) : between(500, 3000)).then(() => 'kill' as const)
          : new Promise<'kill'>((resolve) => {
              const fallback = setTimeout(() => resolve('kill'), 1500);
              killAfterSend = () => {
                clearTimeout(fallback);
                setTimeout(() => resolve('kill'), between(0, 2));
              };
            });
      const first = await Promise.race([kill, current.exited]);
      killAfterSend = undefined;
      if (first !== 'kill') throw new Error(`life ${life} exited ${first} before its kill:\n${current.stderr()}`);
      current.child.kill('SIGKILL');
      const how = await current.exited;
      if (how !== 'SIGKILL') throw new Error(`life ${life} exited ${how}, not by SIGKILL:\n${current.stderr()}`);
    }
    const last = startLife();
    const timer = setTimeout(() => last.child.kill('SIGKILL'), 60_000);
    const how = await last.exited;
    clearTimeout(timer);
    expect(how, `the last life did not end every run within 60 s (exit ${how}):\n${last.stderr()}`).toBe(0);

    const summary = JSON.parse(fs.readFileSync(config.summaryPath, 'utf8')) as WaitsSummary;
    const { runs, events } = await readStore(config.dbPath);
    const store = new SqliteStore({ path: config.dbPath });
    await store.open();
    const waitsByRun = new Map<string, WaitRecord[]>();
    for (const run of runs) waitsByRun.set(run.id, await store.getWaits(run.id));
    const inbox = await store.listInbox({ name: 'crash.go', limit: 1000 });
    await store.close();
    const log = readWaitsLog(config.logPath);

    // Every run ended once, succeeded, with the event and the input it was sent.
    expect(summary.runs).toHaveLength(RUNS);
    for (const r of summary.runs) {
      expect(r.status, `run ${r.i}: ${runs.find((x) => x.id === r.runId)?.error}`).toBe('succeeded');
      expect(r.output, `run ${r.i}`).toEqual(outputOf(r.i));
    }
    expect(runs).toHaveLength(RUNS); // idempotent start across restarts: one run per key
    expect(runs.every((r) => r.workflow === WAITS_WORKFLOW && r.status === 'succeeded')).toBe(true);
    for (const run of runs) {
      expect(
        events.filter((e) => e.runId === run.id && e.type === 'run_succeeded'),
        run.id,
      ).toHaveLength(1);
    }

    // Each step succeeded once; its function never began after its success was recorded.
    const history = stepHistory(events);
    const succeededAt = new Map<string, number>();
    for (const e of events) if (e.type === 'step_succeeded') succeededAt.set(`${e.runId}/${e.step}`, e.at);
    for (const run of runs) {
      for (const step of ['nap', 'hear', 'ask']) {
        const id = `${run.id}/${step}`;
        expect(history.get(id)?.succeeded, id).toHaveLength(1);
        const began = log.filter(
          (l): l is Extract<WaitsLogLine, { step: string }> =>
            l.type === 'invoke' && l.runId === run.id && l.step === step,
        );
        expect(began.length, id).toBeGreaterThanOrEqual(1);
        for (const line of began)
          expect(line.at, `${id} began again after it succeeded`).toBeLessThanOrEqual(succeededAt.get(id) as number);
      }
    }

    // Each sleep: its deadline computed once (at the first call) and stored; it woke no earlier,
    // and no later than the slack after that deadline or after the boot of the life that woke it.
    const boots = new Map(log.filter((l) => l.type === 'boot').map((l) => [l.life, l.at]));
    let wokeAfterRestart = 0;
    let wokeInLife = 0;
    for (const run of runs) {
      const waits = waitsByRun.get(run.id) ?? [];
      for (const [key, ms] of [
        ['sleep#0', napMsOf(Number(JSON.parse(run.input).i))],
        ['sleep:second', SECOND_SLEEP_MS],
      ] as const) {
        const id = `${run.id} ${key}`;
        const wait = waits.find((w) => w.key === key);
        expect(wait?.status, id).toBe('resolved');
        const due = wait?.dueAt as number;
        // A call whose life died before its wait was committed asked for another deadline; the one
        // stored is one a call asked for. Later calls return at once (checked by the wake times).
        const asked = log.filter(
          (l): l is Extract<WaitsLogLine, { type: 'asked' }> =>
            l.type === 'asked' && l.runId === run.id && l.key === key,
        );
        // The worker reads the time just before the call (`due`, its deadline then) and just after
        // it (`at`): the deadline the call computed lies between, however long the process was
        // descheduled or paused by GC meanwhile (CI once saw 55 ms). Another life's call is at
        // least a boot (~0.5 s) apart.
        const registering = asked.findIndex((l) => l.due <= due && due <= l.at + ms);
        expect(
          registering,
          `${id}: no call asked for the stored deadline ${due}: ${asked.map((l) => l.due)}`,
        ).toBeGreaterThanOrEqual(0);
        expect(due - (wait?.createdAt as number), id).toBeLessThanOrEqual(ms);
        const woke = log.find((l) => l.type === 'woke' && l.runId === run.id && l.key === key);
        expect(woke, id).toBeDefined();
        const wokeAt = (woke as { at: number }).at;
        const boot = boots.get((woke as { life: number }).life) as number;
        expect(wokeAt, `${id} woke early`).toBeGreaterThanOrEqual(due);
        expect(wokeAt - Math.max(due, boot), `${id} woke late (slept again?)`).toBeLessThanOrEqual(WAKE_SLACK_MS);
        if (boot > due) wokeAfterRestart++;
        else wokeInLife++;
      }
    }

    // Events: one per idempotency key in the inbox however often it was sent, each delivered to
    // exactly one wait (its run's), and the sender told "delivered" at most once.
    expect(inbox).toHaveLength(RUNS);
    const bySeq = new Map(inbox.map((e) => [e.seq as number, e]));
    const resolvedBy = new Map<number, string[]>();
    for (const run of runs) {
      const i = JSON.parse(run.input).i as number;
      const eventWaits = (waitsByRun.get(run.id) ?? []).filter((w) => w.kind === 'event');
      expect(eventWaits, run.id).toHaveLength(1);
      const value = JSON.parse(eventWaits[0]?.value as string);
      expect(bySeq.get(value.seq)?.idempotencyKey, run.id).toBe(`go-${i}`);
      resolvedBy.set(value.seq, [...(resolvedBy.get(value.seq) ?? []), run.id]);
      const told = sent.filter((s) => s.kind === 'event' && s.i === i && s.outcome?.ok);
      expect(
        told.filter((s) => s.outcome?.ok && s.outcome.duplicate === false).length,
        `event ${i}`,
      ).toBeLessThanOrEqual(1);
      expect(
        told.reduce((sum, s) => sum + ((s.outcome?.ok && s.outcome.delivered) || 0), 0),
        `event ${i}`,
      ).toBeLessThanOrEqual(1);
      // Inputs: each occurrence resolved once; an extra answer was refused, never applied.
      const inputWaits = (waitsByRun.get(run.id) ?? []).filter((w) => w.kind === 'input');
      expect(
        inputWaits.map((w) => [w.key, w.status]),
        run.id,
      ).toEqual([
        ['input:approve#0', 'resolved'],
        ['input:approve#1', 'resolved'],
      ]);
      const answered = sent.filter((s) => s.kind === 'input' && s.i === i && s.outcome?.ok);
      expect(answered.length, `input ${i}`).toBeLessThanOrEqual(2);
      for (const s of sent.filter((x) => x.kind === 'input' && x.i === i && x.outcome && !x.outcome.ok)) {
        expect(['input_not_awaited', 'invalid_state'], `input ${i}`).toContain((s.outcome as { code: string }).code);
      }
    }
    for (const [seq, ids] of resolvedBy) expect(ids, `inbox event ${seq}`).toHaveLength(1);

    // The kills landed while runs waited: some sleeps were woken by a life that booted after the
    // deadline (others within the life that asked), and some sends went to lives that died
    // before answering.
    expect(wokeAfterRestart, 'no sleep outlived a life').toBeGreaterThan(0);
    expect(wokeInLife, 'no sleep ended within a life').toBeGreaterThan(0);
    expect(
      sent.some((s) => !s.outcome),
      'no send died with its life',
    ).toBe(true);
  }, 180_000);
});
