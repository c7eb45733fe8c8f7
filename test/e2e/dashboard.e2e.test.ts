/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * server: an executor on SQLite in a temp dir, the demo workflows plus a slow one, one whose
 * output and error carry markup, and ones that wait (for a person's approval, a time, an event).
 * It builds the dashboard first when dashboard/dist is missing or older than its sources.
 *
 * With BRAID_SCREENSHOTS=1 (`npm run screenshots`) it saves the README's screenshots in
 * docs/screenshots/; without it a run of the tests changes no tracked file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { digest, order, summarize } from '../../examples/workflows.js';
import { SqliteStore, WorkflowExecutor, workflow } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import type { PendingDebounce } from '../../src/store/types.js';

/** Debian's Chromium, or BRAID_CHROMIUM: the browser project's global setup finds or installs it. */
const CHROMIUM_PATH = inject('chromiumPath');
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARD_DIR = join(ROOT, 'dashboard');
const DIST_DIR = join(DASHBOARD_DIR, 'dist');
const SCREENSHOT_DIR = join(ROOT, 'docs', 'screenshots');
const SHOULD_SCREENSHOT = process.env.BRAID_SCREENSHOTS === '1';
/** How long a UI change may take to show (live updates are throttled to a few per second). */
const UI_TIMEOUT_MS = 10_000;

const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_IMG = '<img src=x onerror="window.__xss=2">';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** Long enough steps to pause or cancel from the UI while one is running. */
const slow = workflow('slow', { description: 'Three steps in a chain, each takes a while.' })
  .step('one', async (ctx) => {
    await sleep(2000, ctx.signal);
    return 1;
  })
  .step('two', { parents: ['one'] }, async (ctx) => {
    await sleep(300, ctx.signal);
    return 2;
  })
  .step('three', { parents: ['two'] }, async (ctx) => {
    await sleep(300, ctx.signal);
    return 3;
  });

/** Markup in an input, an output and an error: the dashboard must show it as text. */
const markup = workflow('markup', { input: z.object({ note: z.string() }) })
  .step('echo', (ctx) => ({ note: ctx.input.note, script: XSS_SCRIPT, img: XSS_IMG }))
  .step('explode', { parents: ['echo'] }, () => {
    throw new Error(`refused ${XSS_SCRIPT} ${XSS_IMG}`);
  });

/** A promise the test resolves by hand, to hold a run at a known point while the page watches. */
function gate(): { isOpen: Promise<void>; open: () => void } {
  let open = () => {};
  const isOpen = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { isOpen, open };
}
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
const spawnGate = gate();
const childGate = gate();

/** Children that wait for the test to let them finish. */
const waiter = workflow('waiter', { input: z.object({ n: z.number() }) }).step('wait', async (ctx) => {
  await Promise.race([childGate.isOpen, untilAborted(ctx.signal)]);
  return ctx.input.n;
});

/**
 * A fan-out whose step waits before it spawns: the page has loaded the running step with no
 * children, and must notice them from the children's events alone (the run itself sends none).
 */
const gatedFanout = workflow('gated-fanout')
  .step('spawn', async (ctx) => {
    await Promise.race([spawnGate.isOpen, untilAborted(ctx.signal)]);
    const handles = [0, 1, 2].map((n) => ctx.spawnWorkflow(waiter, { n }));
    return (await ctx.join(handles)).length;
  })
  .step('report', { parents: ['spawn'] }, (ctx) => `${ctx.parent('spawn')} children done`);

/** Asks a person to approve a payment (a form is drawn from the schema), then pays or refuses. */
const approval = workflow('approval', {
  input: z.object({ amount: z.number() }),
  description: 'Asks a person to approve a payment, then pays.',
  timeoutSeconds: 0, // it waits up to a day for the person: no run deadline before that
})
  .step('ask', (ctx) =>
    ctx.waitForInput('approve', {
      schema: z.object({
        approved: z.boolean().describe('Tick to pay'),
        approver: z.string().min(2).describe('Your name'),
        level: z.enum(['low', 'high']),
        note: z.string().optional(),
      }),
      payload: { question: 'Pay this invoice?', amount: ctx.input.amount, vendor: 'ACME <b>Corp</b>' },
      timeout: '1d',
    }),
  )
  .step('pay', { parents: ['ask'] }, (ctx) => {
    const answer = ctx.parent('ask');
    return answer?.approved ? `paid ${answer.level} by ${answer.approver}` : 'refused';
  });

/** Two branches that wait: a reminder in two hours, and a customer's reply for three days. */
const followUp = workflow('follow-up', { timeoutSeconds: 0 })
  .step('start', () => 'started')
  .step('remind', { parents: ['start'] }, async (ctx) => {
    await ctx.sleep('2h');
    return 'reminded';
  })
  .step('hear', { parents: ['start'] }, (ctx) => ctx.waitForEvent('customer.replied', { timeout: '3d' }));

const streamGate = gate();

/** Streams text tokens and a JSON chunk, and reports progress; halfway it waits for the test. */
/** One start a minute: the second run waits for its turn, which the rate limits page shows. */
const throttled = workflow('throttled-api', { rateLimit: { limit: 1, period: '1m' } }).step('call', () => 'called');

/** Saves per user, debounced: triggers of one user within 10 minutes make one run (1 hour at most). */
const debouncedSave = workflow('debounced-save', {
  input: z.object({ user: z.string(), n: z.number() }),
  debounce: { key: (input: { user: string }) => input.user, window: '10m', maxWait: '1h' },
}).step('save', (ctx) => ctx.input.n);

const limitGate = gate();
/** One run at a time, each holding a unit of the `gpu` pool: the limits page shows one active, the rest queued. */
const oneAtATime = workflow('one-at-a-time', { maxRuns: 1 }).step('render', { pool: 'gpu' }, async (ctx) => {
  await Promise.race([limitGate.isOpen, untilAborted(ctx.signal)]);
  return 'rendered';
});

const streamer = workflow('streamer').step('write', async (ctx) => {
  ctx.progress({ done: 1, total: 3 });
  await ctx.emit('Hello');
  await ctx.emit(' streaming');
  ctx.progress({ done: 2, total: 3 });
  await Promise.race([streamGate.isOpen, untilAborted(ctx.signal)]);
  await ctx.emit(' world');
  await ctx.emit('meta', { tokens: 3, model: 'tiny' });
  ctx.progress({ done: 3, total: 3 });
  return 'written';
});

let tempDir: string;
let store: SqliteStore;
/** The screenshots as they were before the tests: a run that was not asked for them must leave them. */
const screenshotsBefore = screenshotTimes();
let executor: WorkflowExecutor;
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await buildDashboardIfStale();

  tempDir = mkdtempSync(join(tmpdir(), 'braid-e2e-'));
  store = new SqliteStore({ path: join(tempDir, 'braid.db') });
  executor = new WorkflowExecutor({
    store,
    workflows: [
      order,
      summarize,
      digest,
      slow,
      markup,
      waiter,
      gatedFanout,
      approval,
      followUp,
      streamer,
      throttled,
      debouncedSave,
      oneAtATime,
    ],
    maxParallelNodes: 8,
    pools: { gpu: 2 },
  });
  // token '' = no token, whatever BRAID_TOKEN says in the environment.
  server = await startServer(executor, { port: 0, token: '', dashboardDir: DIST_DIR });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await executor?.cleanup();
  await store?.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  let digestRunId: string;
  let childRunId: string;

  it('lists top-level runs, shows a new one without a reload, and child runs one click away', async () => {
    const orderRun = await startRun('order', { id: 'A-1', items: [{ sku: 'tea', qty: 2 }] });
    await page.goto(`${server.url}/`);
    const runs = page.getByRole('table', { name: 'Runs' });
    await runs.getByRole('link', { name: orderRun }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();

    const urls = Array.from({ length: 30 }, (_, i) => `https://example.com/doc/${i + 1}`);
    digestRunId = await startRun('digest', { urls });
    const digestRow = runs.getByRole('row').filter({ has: page.getByRole('link', { name: digestRunId, exact: true }) });
    await digestRow.waitFor();
    await digestRow.getByText('succeeded').waitFor();
    // Top-level runs by default: the fan-out's 30 children do not bury the runs that were started.
    await eventually(async () => expect(await distinctColumn(runs, 1)).toEqual(['digest', 'order']));
    expect(await runs.getByRole('link', { name: `${digestRunId} / fanout` }).count()).toBe(0);

    // One click lists the children too, each linking back to the parent and its step.
    const includeChildren = page.getByRole('checkbox', { name: 'Include child runs' });
    expect(await includeChildren.isChecked()).toBe(false);
    await includeChildren.check();
    await runs
      .getByRole('link', { name: `${digestRunId} / fanout` })
      .first()
      .waitFor();
    await page.getByRole('combobox', { name: 'Workflow' }).selectOption('summarize');
    await eventually(async () => expect(await distinctColumn(runs, 1)).toEqual(['summarize']));
    await page.getByRole('combobox', { name: 'Workflow' }).selectOption('');
    await includeChildren.uncheck();
    await eventually(async () => expect(await distinctColumn(runs, 1)).toEqual(['digest', 'order']));
  });

  it("draws a fan-out run's DAG with live statuses and pages through its children", async () => {
    await page.getByRole('table', { name: 'Runs' }).getByRole('link', { name: digestRunId, exact: true }).click();
    await page.getByRole('button', { name: 'step fanout: succeeded' }).waitFor();
    await page.getByRole('button', { name: 'step publish: succeeded' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'digest succeeded' }).waitFor();
    await page.getByRole('list', { name: 'Step status legend' }).waitFor();

    const children = page.getByRole('table', { name: 'Children of fanout' });
    const rows = children.locator('tbody tr');
    await eventually(async () => expect(await rows.count()).toBe(25));
    const firstPageIds = await children.locator('tbody a').allTextContents();
    const pager = page.getByRole('navigation', { name: 'Pages of the children of fanout' });
    await pager.getByRole('button', { name: 'Next' }).click();
    await eventually(async () => expect(await rows.count()).toBe(5));
    const secondPageIds = await children.locator('tbody a').allTextContents();
    expect(new Set([...firstPageIds, ...secondPageIds]).size).toBe(30);
    expect(await pager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'Previous' }).click();
    await eventually(async () => expect(await rows.count()).toBe(25));
    await children.getByText('succeeded').first().waitFor();

    // The step's panel: attempts, output, and a "Children (30)" section.
    await page.getByRole('button', { name: 'step fanout: succeeded' }).click();
    const panel = page.getByRole('region', { name: 'Step fanout', exact: true });
    await panel.getByRole('heading', { name: 'Children (30)' }).waitFor();
    await panel.getByRole('table', { name: 'Attempts of step fanout' }).getByText('succeeded').waitFor();
    await panel.getByText('https://example.com/doc/1:').first().waitFor();

    await screenshot('run-page.png', { fullPage: true });
    childRunId = firstPageIds[0]!;
  });

  it('opens a child run and follows "spawned by" back to the parent', async () => {
    await page.getByRole('table', { name: 'Children of fanout' }).getByRole('link', { name: childRunId }).click();
    await page.getByRole('heading', { level: 1, name: 'summarize succeeded' }).waitFor();
    await page.getByRole('button', { name: 'step summary: succeeded' }).waitFor();
    const spawnedBy = page.getByRole('link', { name: `Spawned by run ${digestRunId}, step fanout` });
    await spawnedBy.click();
    await page.getByRole('heading', { level: 1, name: 'digest succeeded' }).waitFor();
    // The link names the step, so the parent opens with that step's panel.
    await page.getByRole('region', { name: 'Step fanout', exact: true }).waitFor();
  });

  it("lists a run's children from its page, in the runs list", async () => {
    await page.goto(`${server.url}/#/runs/${digestRunId}`);
    await page.getByRole('link', { name: 'List them with the runs' }).click();
    await page.getByText(`Children of run ${digestRunId}`).waitFor();
    const runs = page.getByRole('table', { name: 'Runs' });
    await eventually(async () => expect(await runs.locator('tbody tr').count()).toBe(30));
    expect(await distinctColumn(runs, 1)).toEqual(['summarize']);
    expect(await distinctColumn(runs, 5)).toEqual([`${digestRunId} / fanout`]);
    await page.getByRole('link', { name: 'Show top-level runs' }).click();
    await eventually(async () => expect(await distinctColumn(runs, 1)).toEqual(['digest', 'order']));
  });

  it('shows the date of a run from another day, the time alone for one of today', async () => {
    const context = await browser.newContext();
    try {
      const tab = await context.newPage();
      tab.setDefaultTimeout(UI_TIMEOUT_MS);
      // The runs were started today; in this tab it is tomorrow (timers keep running).
      const tomorrow = new Date();
      tomorrow.setDate(tomorrow.getDate() + 1);
      await tab.clock.setFixedTime(tomorrow);
      await tab.goto(`${server.url}/`);
      const started = tab.getByRole('table', { name: 'Runs' }).locator('tbody tr td:nth-child(4)');
      await started.first().waitFor();
      const today = new Date();
      const date = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
      for (const text of await started.allTextContents())
        expect(text).toMatch(new RegExp(`^${date} \\d\\d:\\d\\d:\\d\\d$`));
    } finally {
      await context.close();
    }
    await page.goto(`${server.url}/`);
    const started = page.getByRole('table', { name: 'Runs' }).locator('tbody tr td:nth-child(4)');
    await started.first().waitFor();
    for (const text of await started.allTextContents()) expect(text).toMatch(/^\d\d:\d\d:\d\d$/);
  });

  it('follows a fan-out live: its children appear, run and finish without a reload', async () => {
    const runId = await startRun('gated-fanout', {});
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('button', { name: 'step spawn: running' }).waitFor();
    await sleep(500);
    expect(await page.getByRole('table', { name: 'Children of spawn' }).count()).toBe(0);

    spawnGate.open();
    const children = page.getByRole('table', { name: 'Children of spawn' });
    await eventually(async () => expect(await children.getByText('running').count()).toBe(3));
    const progress = page.getByRole('progressbar', { name: 'Progress of the children of spawn' });
    expect(await progress.getAttribute('aria-valuetext')).toBe('0 of 3 finished');
    await page.getByRole('button', { name: 'step spawn: running' }).getByText('3 children').waitFor();

    childGate.open();
    await page.getByRole('button', { name: 'step report: succeeded' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'gated-fanout succeeded' }).waitFor();
    await eventually(async () => expect(await children.getByText('succeeded').count()).toBe(3));
    await eventually(async () => expect(await progress.getAttribute('aria-valuetext')).toBe('3 of 3 finished'));
  });

  it("shows a step's output stream live (text as text, other JSON pretty) and its progress", async () => {
    const runId = await startRun('streamer', {});
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('button', { name: 'step write: running' }).click();
    const section = page.getByRole('region', { name: 'Output stream of step write' });
    const text = section.locator('[data-stream="default"] pre');
    await eventually(async () => expect(await text.textContent()).toBe('Hello streaming'));
    await section.getByLabel('following live').waitFor();
    const bar = section.getByRole('progressbar', { name: 'Step progress' });
    await eventually(async () => expect(await bar.getAttribute('value')).toBe('2'));

    streamGate.open();
    await eventually(async () => expect(await text.textContent()).toBe('Hello streaming world'));
    const meta = section.locator('[data-stream="meta"] pre');
    await eventually(async () => expect(await meta.textContent()).toContain('"tokens": 3'));
    expect(await meta.textContent()).toContain('"model": "tiny"');
    await page.getByRole('button', { name: 'step write: succeeded' }).waitFor();
    await eventually(async () => expect(await section.getByLabel('following live').count()).toBe(0));
  });

  it('pauses and resumes a run from its page, the status changing live', async () => {
    const runId = await startRun('slow', {});
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('button', { name: 'step one: running' }).waitFor();

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const pauseDialog = page.getByRole('dialog', { name: 'Pause this run?' });
    await pauseDialog.getByRole('button', { name: 'Pause run' }).click();
    await page.getByRole('heading', { level: 1, name: 'slow paused' }).waitFor();
    // The running step finishes and is recorded; the next one does not start.
    await page.getByRole('button', { name: 'step one: succeeded' }).waitFor();
    await sleep(400);
    await page.getByRole('button', { name: 'step two: pending' }).waitFor();

    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.getByRole('dialog', { name: 'Resume this run?' }).getByRole('button', { name: 'Resume run' }).click();
    await page.getByRole('button', { name: 'step three: succeeded' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'slow succeeded' }).waitFor();
  });

  it("stops a paused run's duration, in the list and on its page", async () => {
    const runId = await startRun('slow', {});
    await eventually(async () => expect((await getRun(runId)).steps[0]?.status).toBe('running'));
    const paused = await fetch(`${server.url}/api/runs/${runId}/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    // Its running step finishes; nothing moves after that.
    await eventually(async () => expect((await getRun(runId)).steps[0]?.status).toBe('succeeded'), 15_000);

    await page.goto(`${server.url}/`);
    const row = page
      .getByRole('table', { name: 'Runs' })
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: runId, exact: true }) });
    await row.getByText('paused').waitFor();
    const duration = row.locator('td:nth-child(5)');
    const shown = await duration.textContent();
    await sleep(2500);
    expect(await duration.textContent()).toBe(shown);

    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'slow paused' }).waitFor();
    const fact = page.locator('dt', { hasText: /^Duration$/ }).locator('xpath=following-sibling::dd[1]');
    const onPage = await fact.textContent();
    await sleep(2500);
    expect(await fact.textContent()).toBe(onPage);
    expect(onPage).toBe(shown);
    await fetch(`${server.url}/api/runs/${runId}/cancel`, { method: 'POST' });
  });

  it('cancels a run from its page after confirmation', async () => {
    const runId = await startRun('slow', {});
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('button', { name: 'step one: running' }).waitFor();

    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this run?' });
    // "Go back" leaves the run alone.
    await dialog.getByRole('button', { name: 'Go back' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByRole('heading', { level: 1, name: 'slow running' }).isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await dialog.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('heading', { level: 1, name: 'slow cancelled' }).waitFor();
    await page.getByRole('button', { name: 'step one: cancelled' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel', exact: true }).isDisabled()).toBe(true);
  });

  it("shows a run's priority on its page", async () => {
    const res = await fetch(`${server.url}/api/workflows/slow/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: {}, priority: 7 }),
    });
    expect(res.status).toBe(201);
    const { runId } = (await res.json()) as { runId: string };
    await page.goto(`${server.url}/#/runs/${runId}`);
    const fact = page.locator('dt', { hasText: /^Priority$/ }).locator('xpath=following-sibling::dd[1]');
    await eventually(async () => expect(await fact.textContent()).toBe('7'));
    await fetch(`${server.url}/api/runs/${runId}/cancel`, { method: 'POST' });
  });

  it('lets a person answer an input from the run page: a form from its schema, a 422 shown inline, then the run goes on', async () => {
    const runId = await startRun('approval', { amount: 420 });
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'approval waiting' }).waitFor();
    // The waiting step is drawn as such, with its deadline (a day from now: the date shows, in
    // short in the node and in full in its name).
    const ask = page.getByRole('button', {
      name: /^step ask: waiting for input "approve" until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    });
    await ask.getByText(/^input until \d\d-\d\d \d\d:\d\d$/).waitFor();
    expect(await ask.locator('.wait-icon').count()).toBe(1);

    // The request: what the step asks (markup in it shown as text), until when, and the form.
    const request = page.getByRole('region', { name: 'Input approve' });
    await request.getByText('"amount": 420').waitFor();
    await request.getByText('ACME <b>Corp</b>').waitFor();
    await request.getByText(/Times out at .* \(in 23h 59m\)/).waitFor();
    const form = request.getByRole('form', { name: 'Answer input approve' });
    const approver = form.getByRole('textbox', { name: /^approver/ });
    await form.getByRole('checkbox', { name: 'approved' }).check();
    await approver.fill('Ada');
    await form.getByRole('combobox', { name: /^level/ }).selectOption('high');
    await form.getByText('Tick to pay').waitFor(); // the schema's description, as a hint
    await screenshot('input-form.png', { fullPage: true });

    // A value the schema refuses: the issue is shown by its field, and nothing changes.
    await approver.fill('A');
    await form.getByRole('button', { name: 'Send approve' }).click();
    await form.getByRole('alert').getByText('The value does not fit: nothing was changed.').waitFor();
    await form.getByText('Too small: expected string to have >=2 characters').waitFor();
    expect(await approver.getAttribute('aria-invalid')).toBe('true');
    expect(await approver.getAttribute('aria-describedby')).toBeTruthy();
    expect((await getRun(runId)).run.status).toBe('waiting');

    await approver.fill('Ada');
    await form.getByRole('button', { name: 'Send approve' }).click();
    await page.getByRole('heading', { level: 1, name: 'approval succeeded' }).waitFor();
    await page.getByRole('button', { name: 'step pay: succeeded' }).waitFor();
    await page.locator('.card').filter({ hasText: 'Output' }).getByText('paid high by Ada').waitFor();
    expect(await page.getByRole('form', { name: 'Answer input approve' }).count()).toBe(0);
    const settled = page.getByRole('table', { name: 'Settled waits' });
    await settled.getByRole('row').filter({ hasText: 'input "approve"' }).getByText('resolved').waitFor();
  });

  it('lists sleeps and events with their due time, draws their steps waiting, and filters the runs by waiting', async () => {
    const runId = await startRun('follow-up', {});
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'follow-up waiting' }).waitFor();
    const pending = page.getByRole('list', { name: 'Pending sleeps and events' });
    // Two hours on may be tomorrow: then the date shows too.
    await pending.getByText(/^Step remind sleeps until (\S+ )?\d\d:\d\d:\d\d \(in 1h 59m\)$/).waitFor();
    await pending
      .getByText(/^Step hear waits for event "customer\.replied", until \d{4}-\d\d-\d\d \S+ \(in 71h 59m\)$/)
      .waitFor();
    const remind = page.getByRole('button', { name: /^step remind: waiting for sleep until (\S+ )?\d\d:\d\d:\d\d$/ });
    await remind.getByText(/^sleep until (\d\d:\d\d:\d\d|\d\d-\d\d \d\d:\d\d)$/).waitFor();
    await page.getByRole('button', { name: /^step hear: waiting for event "customer\.replied" until / }).waitFor();
    await page.getByRole('button', { name: 'step start: succeeded' }).waitFor();
    // The step's panel lists its waits too.
    await page.getByRole('button', { name: /^step remind: waiting/ }).click();
    const panel = page.getByRole('region', { name: 'Step remind', exact: true });
    await panel.getByText(/^sleep · pending until /).waitFor();
    // Pause applies to a waiting run.
    expect(await page.getByRole('button', { name: 'Pause', exact: true }).isDisabled()).toBe(false);

    await page.goto(`${server.url}/`);
    await page.getByRole('combobox', { name: 'Status' }).selectOption('waiting');
    const runs = page.getByRole('table', { name: 'Runs' });
    await runs.getByRole('link', { name: runId, exact: true }).waitFor();
    await eventually(async () => expect(await distinctColumn(runs, 0)).toEqual(['waiting']));
    await page.getByRole('combobox', { name: 'Status' }).selectOption('');
  });

  it('shows each rate limit with its busy keys, and changes a limit at run time', async () => {
    await startRun('throttled-api', {});
    const waiting = await startRun('throttled-api', {});
    await page.goto(`${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rate limits' }).click();
    await page.getByRole('heading', { level: 1, name: 'Rate limits' }).waitFor();
    const table = page.getByRole('table', { name: 'Rate limits' });
    const row = table.getByRole('row').filter({ hasText: 'throttled-api' });
    await row.getByText('1 / 1m').waitFor();
    await row
      .getByRole('list', { name: 'Busy keys of throttled-api' })
      .getByText('(all): 1 of 1 used, 1 queued')
      .waitFor();

    const form = row.getByRole('form', { name: 'Change throttled-api' });
    await form.getByRole('textbox', { name: 'Limit' }).fill('0');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByText(/`limit` must be a whole number >= 1/).waitFor();
    await form.getByRole('textbox', { name: 'Limit' }).fill('100');
    await form.getByRole('textbox', { name: 'Period' }).fill('1s');
    await form.getByRole('button', { name: 'Save' }).click();
    await row.getByText('100 / 1s').waitFor();
    await row.getByText('(set at run time; defined 1 / 1m)').waitFor();
    // The waiting run keeps the start it was granted; a new one follows the new limit at once.
    const fresh = await startRun('throttled-api', {});
    await eventually(async () => expect((await executor.store.getRun(fresh))?.status).toBe('succeeded'));
    await form.getByRole('button', { name: 'Reset' }).click();
    await row.getByText('1 / 1m').waitFor();
    await executor.cancel(waiting);
  });

  it("shows each workflow's maxRuns and each pool with their usage, and changes them at run time", async () => {
    const runs = [
      await startRun('one-at-a-time', {}),
      await startRun('one-at-a-time', {}),
      await startRun('one-at-a-time', {}),
    ];
    await page.goto(`${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Limits', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Concurrency limits' }).waitFor();
    const row = page.getByRole('table', { name: 'Run limits' }).getByRole('row').filter({ hasText: 'one-at-a-time' });
    const keys = row.getByRole('list', { name: 'Keys of one-at-a-time' });
    await keys.getByText('(all): 1 of 1 active, 2 queued').waitFor();
    const pool = page.getByRole('table', { name: 'Pools' }).getByRole('row').filter({ hasText: 'gpu' });
    await pool.getByRole('cell', { name: '1 of 2', exact: true }).waitFor();

    const form = row.getByRole('form', { name: 'Change one-at-a-time' });
    await form.getByRole('textbox', { name: 'maxRuns' }).fill('0');
    await form.getByRole('button', { name: 'Save' }).click();
    await form
      .getByText(/maxRuns/)
      .last()
      .waitFor();
    expect(await executor.store.listLimitSettings()).toEqual([]);
    // Raised to 3: the queued runs start at once, two of them in the pool and one waiting for it.
    await form.getByRole('textbox', { name: 'maxRuns' }).fill('3');
    await form.getByRole('button', { name: 'Save' }).click();
    await row.getByText('(set at run time; defined 1)').waitFor();
    await keys.getByText('(all): 3 of 3 active, 0 queued').waitFor();
    await pool.getByRole('cell', { name: '2 of 2', exact: true }).waitFor();
    const poolForm = pool.getByRole('form', { name: 'Change pool gpu' });
    await poolForm.getByRole('textbox', { name: 'Size' }).fill('3');
    await poolForm.getByRole('button', { name: 'Save' }).click();
    await pool.getByRole('cell', { name: '3 of 3', exact: true }).waitFor();

    await form.getByRole('button', { name: 'Reset' }).click();
    await poolForm.getByRole('button', { name: 'Reset' }).click();
    await row.getByRole('cell', { name: '1', exact: true }).waitFor();
    await pool.getByRole('cell', { name: '3 of 2', exact: true }).waitFor();
    limitGate.open();
    for (const runId of runs) {
      await eventually(async () => expect((await executor.store.getRun(runId))?.status).toBe('succeeded'));
    }
  });

  it('shows markup in inputs, outputs and errors as text, never running it', async () => {
    const runId = await startRun('markup', { note: XSS_IMG });
    await page.goto(`${server.url}/#/runs/${runId}`);
    await page.getByRole('heading', { level: 1, name: 'markup failed' }).waitFor();
    await page.getByRole('button', { name: 'step explode: failed' }).click();
    const explode = page.getByRole('region', { name: 'Step explode', exact: true });
    await explode.getByText(`refused ${XSS_SCRIPT} ${XSS_IMG}`).first().waitFor();
    await page.getByRole('button', { name: 'step echo: succeeded' }).click();
    const echo = page.getByRole('region', { name: 'Step echo', exact: true });
    await echo.getByText(XSS_SCRIPT).waitFor();
    // The input is shown as JSON (its quotes escaped), the run's error message as it is.
    await page.locator('.card').filter({ hasText: 'Input' }).getByText('<img src=x onerror=').waitFor();
    await page.locator('.card--error').getByText(XSS_IMG).first().waitFor();

    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#root script').count()).toBe(0);

    // Replay starts a new run with the same input and opens it.
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByRole('dialog', { name: 'Replay this run?' }).getByRole('button', { name: 'Replay run' }).click();
    await page.getByRole('link', { name: runId, exact: true }).waitFor();
    expect(page.url()).not.toContain(runId);
    await page.getByRole('heading', { level: 1, name: 'markup failed' }).waitFor();
    expect(await page.evaluate('window.__xss')).toBeUndefined();
  });

  it('starts a run from the dialog, and says what is wrong with a bad input', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Start a run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start a run' });
    await dialog.getByRole('combobox', { name: 'Workflow' }).selectOption('order');
    const input = dialog.getByRole('textbox', { name: 'Input (JSON)' });
    await input.fill('{ not json');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.getByRole('alert').getByText('The input is not JSON').waitFor();
    await input.fill('{"id": "B-7"}');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.getByRole('alert').getByText('items').waitFor();

    await input.fill(JSON.stringify({ id: 'B-7', items: [{ sku: 'cup', qty: 1 }] }));
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('heading', { level: 1, name: 'order succeeded' }).waitFor();
    await page.getByRole('button', { name: 'step ship: succeeded' }).waitFor();
    await page.getByRole('button', { name: 'step refund: skipped' }).waitFor();
    // Every dependency is drawn, also after the live updates replaced the nodes.
    expect(await page.locator('.react-flow__edge').count()).toBe(6);
    // The flaky `stock` step failed once and was retried: both attempts are in its panel.
    await page.getByRole('button', { name: 'step stock: succeeded' }).click();
    const attempts = page.getByRole('table', { name: 'Attempts of step stock' });
    await attempts.getByText('warehouse API timed out (simulated)', { exact: true }).waitFor();
    await attempts.getByText('retried').waitFor();

    // The runs list, with every kind of status by now, for the screenshot.
    await page.goto(`${server.url}/`);
    const runs = page.getByRole('table', { name: 'Runs' });
    await runs.getByText('cancelled').first().waitFor();
    await runs.getByText('failed').first().waitFor();
    await runs.getByText('waiting').first().waitFor();
    await screenshot('runs-list.png');
  });

  it('forks a run from a step with an edited input, then shows the two runs side by side', async () => {
    const original = await executor.execute(summarize, { url: 'https://a.example' });
    const originalId = original.context.runId as string;
    await page.goto(`${server.url}/#/runs/${originalId}`);
    await page.getByRole('button', { name: 'step summary: succeeded' }).click();
    await page.getByRole('button', { name: 'Fork from here' }).click();
    const dialog = page.getByRole('dialog', { name: 'Fork from step summary' });
    const input = dialog.getByRole('textbox', { name: 'Input (JSON)' });
    // Prefilled with the run's input.
    expect(JSON.parse(await input.inputValue())).toEqual({ url: 'https://a.example' });
    await input.fill('{ not json');
    await dialog.getByRole('button', { name: 'Fork run' }).click();
    await dialog.getByRole('alert').getByText('The input is not JSON').waitFor();
    await input.fill('{"url": 5}');
    await dialog.getByRole('button', { name: 'Fork run' }).click();
    await dialog.getByRole('alert').getByText('url').waitFor();
    await input.fill('{"url": "https://bb.example"}');
    await dialog.getByRole('button', { name: 'Fork run' }).click();

    // The fork's page: `fetch` reused (the original's output), `summary` ran with the new input.
    await page.getByRole('heading', { level: 1, name: 'summarize succeeded' }).waitFor();
    await page.getByText('Fork of').waitFor();
    const forkId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/runs\//, '').split('?')[0] ?? '');
    expect(forkId).not.toBe(originalId);
    await page.getByRole('button', { name: 'step fetch: succeeded' }).click();
    await page.getByText('(not run in this fork)').waitFor();
    expect(await page.getByRole('button', { name: 'Fork from here' }).count()).toBe(1);

    await page.getByRole('link', { name: 'Compare step outputs' }).click();
    const table = page.getByRole('table', { name: 'Step outputs of the two runs' });
    await table.waitFor();
    const summaryRow = table.getByRole('row').filter({ hasText: 'summary' });
    await summaryRow.getByText('differs').waitFor();
    await summaryRow.getByText('https://bb.example: 29 chars').waitFor();
    await summaryRow.getByText('https://a.example: 29 chars').waitFor();
    const fetchRow = table.getByRole('row').filter({ hasText: 'contents of https://a.example' });
    expect(await fetchRow.getByText('differs').count()).toBe(0);
    await fetchRow.getByText('reused').waitFor();
    await page.getByText('1 of 2 steps differ.').waitFor();

    // The original lists its fork, with a link to the same comparison.
    await page.goto(`${server.url}/#/runs/${originalId}`);
    await page.getByRole('list', { name: 'Forks of this run' }).getByRole('link', { name: forkId }).waitFor();
  });

  it('lists schedules with their next fire time and last run; pause, resume and trigger now', async () => {
    await executor.createSchedule({
      workflow: 'slow',
      id: 'e2e-nightly',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
    });
    await page.goto(`${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    const table = page.getByRole('table', { name: 'Schedules' });
    const row = table.getByRole('row').filter({ hasText: 'e2e-nightly' });
    await row.getByText('0 2 * * *').waitFor();
    const next = (await executor.getSchedule('e2e-nightly')).nextFireAt as number;
    expect(await row.locator('time').first().getAttribute('datetime')).toBe(new Date(next).toISOString());

    await page.getByRole('button', { name: 'Pause e2e-nightly' }).click();
    await row.getByText('paused', { exact: true }).waitFor();
    expect((await executor.getSchedule('e2e-nightly')).paused).toBe(true);
    await page.getByRole('button', { name: 'Resume e2e-nightly' }).click();
    await page.getByRole('button', { name: 'Pause e2e-nightly' }).waitFor();

    // Trigger now starts a run and opens it; the schedules page then shows it as the last run.
    await page.getByRole('button', { name: 'Trigger e2e-nightly now' }).click();
    await page.waitForURL(/#\/runs\//);
    const runId = decodeURIComponent(page.url().split('#/runs/')[1] as string);
    expect((await executor.getSchedule('e2e-nightly')).lastRunId).toBe(runId);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Schedules' }).click();
    await table.getByRole('link', { name: runId }).waitFor();
    await executor.cancel(runId);
    await executor.deleteSchedule('e2e-nightly');
  });

  it('lists pending debounces live: a later trigger supersedes, a new key appears, a started run leaves', async () => {
    const ann = await executor.start(debouncedSave, { user: 'ann', n: 1 });
    await page.goto(`${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Debounces' }).click();
    await page.getByRole('heading', { level: 1, name: 'Debounces' }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    const table = page.getByRole('table', { name: 'Pending debounces' });
    const annRow = table.getByRole('row').filter({ hasText: ann.runId });
    await annRow.getByRole('cell', { name: 'ann', exact: true }).waitFor();
    const [first] = (await executor.store.listDebounces({ workflow: 'debounced-save' })) as [PendingDebounce];
    const times = annRow.locator('time');
    expect(await times.nth(2).getAttribute('datetime')).toBe(new Date(first.dueAt).toISOString());
    expect(await times.nth(3).getAttribute('datetime')).toBe(new Date(first.firstAt + 3_600_000).toISOString());

    // Without a reload: a second trigger of ann joins her run, bob's makes a row of its own.
    await executor.start(debouncedSave, { user: 'ann', n: 2 });
    await annRow.getByText('(1 superseded)').waitFor();
    const bob = await executor.start(debouncedSave, { user: 'bob', n: 1 });
    const bobRow = table.getByRole('row').filter({ hasText: bob.runId });
    await bobRow.getByRole('cell', { name: 'bob', exact: true }).waitFor();
    await annRow.getByRole('link', { name: ann.runId }).click();
    await page.getByRole('heading', { level: 1, name: /debounced-save/ }).waitFor();
    await page.goBack();

    // A run that is no longer pending (cancelled here; started, in time) leaves the list.
    await executor.cancel(bob.runId);
    await bobRow.waitFor({ state: 'detached' });
    await executor.cancel(ann.runId);
    await table.getByText('No debounced trigger is pending.').waitFor();
  });

  it('starts a run with a priority from the dialog, and refuses one out of range', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Start a run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Start a run' });
    await dialog.getByRole('combobox', { name: 'Workflow' }).selectOption('slow');
    const priority = dialog.getByRole('textbox', { name: 'Priority' });
    await priority.fill('500');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await dialog.getByRole('alert').getByText('The priority must be a whole number from -100 to 100').waitFor();
    await priority.fill('9');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('heading', { level: 1, name: /^slow / }).waitFor();
    const fact = page.locator('dt', { hasText: /^Priority$/ }).locator('xpath=following-sibling::dd[1]');
    await eventually(async () => expect(await fact.textContent()).toBe('9'));
    const runId = decodeURIComponent(page.url().split('#/runs/')[1]?.split('?')[0] as string);
    expect((await executor.store.getRun(runId))?.priority).toBe(9);
    await executor.cancel(runId);
  });

  it('takes ?token= once, keeps it for the tab and sends it as a bearer token', async () => {
    const token = 'e2e-secret-token';
    const secured = await startServer(executor, { port: 0, token, dashboardDir: DIST_DIR });
    const context = await browser.newContext();
    try {
      // The dashboard's own files are served without the token (they hold no data); the API is not.
      const tab = await context.newPage();
      tab.setDefaultTimeout(UI_TIMEOUT_MS);
      const apiRequest = tab.waitForRequest((r) => new URL(r.url()).pathname === '/api/runs');
      await tab.goto(`${secured.url}/?token=${token}`);
      expect((await apiRequest).headers().authorization).toBe(`Bearer ${token}`);
      await tab.getByRole('table', { name: 'Runs' }).getByRole('link').first().waitFor();
      await tab.getByText('Live', { exact: true }).waitFor();
      expect(tab.url()).not.toContain(token);
      expect(await tab.evaluate("sessionStorage.getItem('braid.token')")).toBe(token);

      // A tab without it is asked for it.
      const other = await context.newPage();
      other.setDefaultTimeout(UI_TIMEOUT_MS);
      await other.goto(`${secured.url}/`);
      await other.getByRole('alert').getByText('This server requires a token').first().waitFor();
      await other.getByLabel('Token').first().fill(token);
      await other.getByRole('button', { name: 'Use token' }).first().click();
      await other.getByRole('table', { name: 'Runs' }).getByRole('link').first().waitFor();
    } finally {
      await context.close();
      await secured.close();
    }
  });
});

describe('braid dev on the demo', () => {
  it('serves the demo workflows; a fan-out is followed from parent to child and back', async () => {
    const dev = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'braid.js'),
        'dev',
        join(ROOT, 'examples', 'workflows.ts'),
        '--port',
        '0',
        '--db',
        join(tempDir, 'dev.db'),
      ],
      { cwd: ROOT, env: { ...process.env, BRAID_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    dev.stdout.on('data', (chunk) => {
      output += chunk;
    });
    dev.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => dev.on('exit', resolve));
    try {
      await eventually(async () => expect(output).toMatch(/Braid dev server: http:\/\/\S+/), 30_000);
      const url = (/Braid dev server: (http:\/\/\S+)/.exec(output) as RegExpExecArray)[1] as string;
      const res = await fetch(`${url}/api/workflows/digest/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          input: { urls: ['https://a.example/1', 'https://a.example/2', 'https://a.example/3'] },
        }),
      });
      expect(res.status).toBe(201);
      const { runId } = (await res.json()) as { runId: string };

      const tab = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      tab.setDefaultTimeout(UI_TIMEOUT_MS);
      await tab.goto(`${url}/#/runs/${runId}`);
      await tab.getByRole('button', { name: 'step fanout: succeeded' }).waitFor();
      await tab.getByRole('button', { name: 'step publish: succeeded' }).waitFor();
      const children = tab.getByRole('table', { name: 'Children of fanout' });
      await eventually(async () => expect(await children.locator('tbody tr').count()).toBe(3));
      const childId = (await children.locator('tbody a').first().textContent()) as string;
      await children.getByRole('link', { name: childId }).click();
      await tab.getByRole('heading', { level: 1, name: 'summarize succeeded' }).waitFor();
      await tab.getByRole('link', { name: `Spawned by run ${runId}, step fanout` }).click();
      await tab.getByRole('heading', { level: 1, name: 'digest succeeded' }).waitFor();
      await tab.close();
    } finally {
      dev.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});

/** Saves a screenshot for the README, only when asked (BRAID_SCREENSHOTS=1): tests change no tracked file. */
async function screenshot(name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (!SHOULD_SCREENSHOT) return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, name), ...options });
}

/** Each screenshot's modification time (ms), or null when it does not exist. */
function screenshotTimes(): Record<string, number | null> {
  const names = existsSync(SCREENSHOT_DIR) ? readdirSync(SCREENSHOT_DIR).filter((n) => n.endsWith('.png')) : [];
  return Object.fromEntries(names.map((name) => [name, statSync(join(SCREENSHOT_DIR, name)).mtimeMs]));
}

describe('a test run', () => {
  it.skipIf(SHOULD_SCREENSHOT)('leaves docs/screenshots as it was (BRAID_SCREENSHOTS=1 rewrites them)', () => {
    expect(screenshotTimes()).toEqual(screenshotsBefore);
  });
});

async function startRun(workflowName: string, input: unknown): Promise<string> {
  const res = await fetch(`${server.url}/api/workflows/${workflowName}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { runId: string }).runId;
}

async function getRun(runId: string): Promise<{ run: { status: string }; steps: Array<{ status: string }> }> {
  return (await (await fetch(`${server.url}/api/runs/${runId}`)).json()) as never;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The sorted distinct texts of one column of a table's body rows. */
async function distinctColumn(table: Locator, columnIndex: number): Promise<string[]> {
  const cells = await table.locator(`tbody tr td:nth-child(${columnIndex + 1})`).allTextContents();
  return [...new Set(cells)].sort();
}

/** Retries an assertion until it passes or the UI timeout is over. */
async function eventually(assertion: () => Promise<void>, timeoutMs = UI_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** Builds dashboard/dist when it is missing or older than any source of the dashboard. */
async function buildDashboardIfStale(): Promise<void> {
  const builtIndex = join(DIST_DIR, 'index.html');
  const builtAt = existsSync(builtIndex) ? statSync(builtIndex).mtimeMs : 0;
  const sources = [
    join(DASHBOARD_DIR, 'index.html'),
    join(DASHBOARD_DIR, 'vite.config.ts'),
    ...filesUnder(join(DASHBOARD_DIR, 'src')),
  ];
  if (builtAt > 0 && sources.every((file) => statSync(file).mtimeMs <= builtAt)) return;
  await build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
