import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { WorkflowExecutor } from '../../executor/workflowExecutor.js';
import { InvalidCursorError, InvalidStateError, RunNotFoundError } from '../../model/errors.js';
import type { Store } from '../../store/store.js';
import { type ForkRecord, isTerminalRun, type RunFilter, type RunPage, type RunRecord } from '../../store/types.js';
import type { ServerDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { readRunEvents, stepsInDagOrder } from '../runSteps.js';
import {
  CancelRunBodySchema,
  ChildrenPageSchema,
  ForkResultSchema,
  ForkRunBodySchema,
  InputParamsSchema,
  ListChildrenQuerySchema,
  ListRunsQuerySchema,
  ProvidedInputSchema,
  ProvideInputBodySchema,
  ReplayResultSchema,
  RunActionResultSchema,
  RunDetailSchema,
  RunIdParamsSchema,
  RunPageSchema,
  type StepJson,
} from '../schemas.js';
import { attemptsFromEvents, eventView, runView, waitView } from '../views.js';
import { errorResponses, jsonResponse } from './responses.js';

const listRuns = createRoute({
  method: 'get',
  path: '/api/runs',
  tags: ['runs'],
  summary: 'List runs, newest first, with filters and cursor paging',
  request: { query: ListRunsQuerySchema },
  responses: { 200: jsonResponse(RunPageSchema, 'One page of runs'), ...errorResponses(400, 401) },
});

const getRun = createRoute({
  method: 'get',
  path: '/api/runs/{id}',
  tags: ['runs'],
  summary: 'A run with its steps, waits, events, attempts, children counts and parent link',
  request: { params: RunIdParamsSchema },
  responses: { 200: jsonResponse(RunDetailSchema, 'The run'), ...errorResponses(401, 404) },
});

const listChildren = createRoute({
  method: 'get',
  path: '/api/runs/{id}/children',
  tags: ['runs'],
  summary: 'The child runs a run spawned, in spawn order, with status counts',
  request: { params: RunIdParamsSchema, query: ListChildrenQuerySchema },
  responses: { 200: jsonResponse(ChildrenPageSchema, 'One page of children'), ...errorResponses(400, 401, 404) },
});

const cancelRun = createRoute({
  method: 'post',
  path: '/api/runs/{id}/cancel',
  tags: ['actions'],
  summary: 'Cancel a run: running steps are aborted, children cancelled',
  request: {
    params: RunIdParamsSchema,
    body: { required: false, content: { 'application/json': { schema: CancelRunBodySchema } } },
  },
  responses: {
    200: jsonResponse(RunActionResultSchema, 'The run, cancelled'),
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
});

const pauseRun = createRoute({
  method: 'post',
  path: '/api/runs/{id}/pause',
  tags: ['actions'],
  summary: 'Pause a run: no new steps start (running ones finish and are recorded)',
  request: { params: RunIdParamsSchema },
  responses: { 200: jsonResponse(RunActionResultSchema, 'The run, paused'), ...errorResponses(401, 404, 409) },
});

const resumeRun = createRoute({
  method: 'post',
  path: '/api/runs/{id}/resume',
  tags: ['actions'],
  summary: 'Resume a paused run from its last checkpoint',
  request: { params: RunIdParamsSchema },
  responses: { 200: jsonResponse(RunActionResultSchema, 'The run, resumed'), ...errorResponses(401, 404, 409) },
});

const replayRun = createRoute({
  method: 'post',
  path: '/api/runs/{id}/replay',
  tags: ['actions'],
  summary: 'Start a new run of the same workflow with the same input (linked by replayOf)',
  request: { params: RunIdParamsSchema },
  responses: { 201: jsonResponse(ReplayResultSchema, 'The new run'), ...errorResponses(401, 404) },
});

const forkRun = createRoute({
  method: 'post',
  path: '/api/runs/{id}/fork',
  tags: ['actions'],
  summary: 'Start a new run from a step of an ended run: the steps before it reuse their outputs',
  description:
    '`from` and every step downstream of it run again; the other steps reuse the original outcome (shown with ' +
    '`reusedFrom`), or the output given in `outputs`. `input` replaces the run input. 404 for an unknown run, ' +
    '409 `run_not_ended` for a run that has not ended (or `fork_version_mismatch`), 422 for an unknown step ' +
    '(`unknown_fork_step`), bad `outputs` (`invalid_fork_outputs`) or an input the schema refuses ' +
    '(`invalid_input`); nothing is created then.',
  request: {
    params: RunIdParamsSchema,
    body: { required: true, content: { 'application/json': { schema: ForkRunBodySchema } } },
  },
  responses: {
    201: jsonResponse(ForkResultSchema, 'The new run'),
    ...errorResponses(400, 401, 404, 409, 413, 415, 422),
  },
});

const provideInput = createRoute({
  method: 'post',
  path: '/api/runs/{id}/inputs/{name}',
  tags: ['actions'],
  summary: 'Give the value a run waits for (`ctx.waitForInput(name)`): its step goes on',
  description:
    "The value is checked against the input's JSON Schema first: a mismatch is a 422 with the issues, and " +
    'nothing changes. The oldest pending input of that name is the one answered; 409 `input_not_awaited` when ' +
    'the run waits for no input of that name (never asked, already answered, or timed out), 409 `invalid_state` ' +
    'when the run has ended.',
  request: {
    params: InputParamsSchema,
    body: { required: true, content: { 'application/json': { schema: ProvideInputBodySchema } } },
  },
  responses: {
    200: jsonResponse(ProvidedInputSchema, 'The value was recorded; the step goes on'),
    ...errorResponses(400, 401, 404, 409, 413, 415, 422),
  },
});

export function registerRunRoutes(app: OpenAPIHono, { executor }: ServerDeps): void {
  const store = executor.store;

  app.openapi(listRuns, async (c) => {
    const q = c.req.valid('query');
    const page = await listRunPage(store, {
      workflow: q.workflow,
      status: q.status,
      parentRunId: q.parentRunId,
      rootRunId: q.rootRunId,
      topLevel: q.topLevel,
      since: q.since,
      until: q.until,
      limit: q.limit,
      cursor: q.cursor,
      order: q.order,
    });
    const now = executor.clock.now(); // the engine's time: a virtual clock's runs age on it
    const runs = page.runs.map((r) => runView(r, now));
    return c.json({ runs, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(getRun, async (c) => {
    const { id } = c.req.valid('param');
    const run = await requireRun(store, id);
    // The executor's waits: from memory for a run it holds (fresher than the store), else stored.
    const [steps, events, counts, waits, fork, forks] = await Promise.all([
      store.getSteps(id),
      readRunEvents(store, id),
      store.countRuns({ parentRunId: id }),
      executor.waits(id),
      store.getFork(id),
      store.listForks(id),
    ]);
    const now = executor.clock.now(); // the engine's time: a virtual clock's runs age on it
    const definition = executor.workflows.find((w) => w.name === run.workflow && w.version === run.version);
    return c.json(
      {
        run: runView(run, now),
        steps: markReused(stepsInDagOrder(steps, definition?.steps, events, now), fork),
        waits: waits.map(waitView),
        events: events.map(eventView),
        attempts: attemptsFromEvents(events),
        children: { total: sum(counts), counts },
        parent: run.parentRunId === null ? null : { runId: run.parentRunId, step: run.parentStep },
        replayOf: run.replayOf,
        forkedFrom: fork ? forkOrigin(fork) : null,
        forks: forks.map((f) => ({ runId: f.runId, step: f.fromStep, createdAt: f.createdAt })),
        progress: executor.progress(id),
      },
      200,
    );
  });

  app.openapi(listChildren, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    await requireRun(store, id);
    const scope = { parentRunId: id, parentStep: q.step };
    const [page, counts] = await Promise.all([
      listRunPage(store, { ...scope, status: q.status, limit: q.limit, cursor: q.cursor, order: q.order ?? 'asc' }),
      store.countRuns(scope),
    ]);
    const now = executor.clock.now(); // the engine's time: a virtual clock's runs age on it
    const runs = page.runs.map((r) => runView(r, now));
    return c.json({ runs, nextCursor: page.nextCursor, total: sum(counts), counts }, 200);
  });

  app.openapi(cancelRun, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const run = await requireRun(store, id);
    // The executor treats cancelling a finished run as a no-op; over HTTP the caller should hear that
    // nothing happened, as with pause and resume.
    if (isTerminalRun(run.status)) throw new InvalidStateError(id, run.status, 'cancel');
    const result = await executor.cancel(id, reason);
    return c.json({ runId: id, status: result.status }, 200);
  });

  app.openapi(pauseRun, async (c) => {
    const { id } = c.req.valid('param');
    await pauseWithoutWaiting(executor, id);
    return c.json({ runId: id, status: 'paused' as const }, 200);
  });

  app.openapi(resumeRun, async (c) => {
    const { id } = c.req.valid('param');
    await executor.resume(id);
    const run = await requireRun(store, id);
    return c.json({ runId: id, status: run.status }, 200);
  });

  app.openapi(provideInput, async (c) => {
    const { id, name } = c.req.valid('param');
    const { value } = c.req.valid('json');
    return c.json(await executor.provideInput(id, name, value), 200);
  });

  app.openapi(forkRun, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const handle = await executor.fork(id, body);
    return c.json({ runId: handle.runId, forkedFrom: { runId: id, step: body.from } }, 201);
  });

  app.openapi(replayRun, async (c) => {
    const { id } = c.req.valid('param');
    const handle = await executor.replay(id);
    return c.json({ runId: handle.runId, replayOf: id }, 201);
  });
}

/** A fork's reused steps say which run's outcome they carry. */
function markReused(steps: StepJson[], fork: ForkRecord | undefined): StepJson[] {
  if (!fork) return steps;
  const reused = new Set(fork.reusedSteps);
  return steps.map((s) => (reused.has(s.name) ? { ...s, reusedFrom: fork.forkedFrom } : s));
}

function forkOrigin(fork: ForkRecord) {
  return {
    runId: fork.forkedFrom,
    step: fork.fromStep,
    reusedSteps: fork.reusedSteps,
    overriddenSteps: fork.overriddenSteps,
  };
}

async function requireRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.getRun(id);
  if (!run) throw new RunNotFoundError(id);
  return run;
}

/** `listRuns`, with a cursor the store cannot read reported as the client's mistake. */
async function listRunPage(store: Store, filter: RunFilter): Promise<RunPage> {
  try {
    return await store.listRuns(filter);
  } catch (error) {
    if (filter.cursor !== undefined && error instanceof InvalidCursorError) {
      throw new ApiError(400, 'invalid_cursor', error.message, [{ path: ['cursor'], message: error.message }]);
    }
    throw error;
  }
}

/**
 * Pauses without waiting for the run's running steps to finish (the executor's `pause` resolves
 * only then, which may be minutes): answers once the pause is committed. A run already paused
 * is answered at once; a refusal (finished run, unknown id) comes from `pause` itself.
 */
async function pauseWithoutWaiting(executor: WorkflowExecutor, runId: string): Promise<void> {
  const run = await requireRun(executor.store, runId);
  if (run.status === 'paused') return;
  let stopListening = () => {};
  const committed = new Promise<void>((resolve) => {
    stopListening = executor.onEvents((events) => {
      if (events.some((e) => e.runId === runId && e.type === 'run_paused')) resolve();
    });
  });
  const settled = executor.pause(runId);
  try {
    await Promise.race([committed, settled]);
  } finally {
    stopListening();
    settled.catch(() => {}); // once the pause is committed, `pause` can no longer fail
  }
}

function sum(counts: Partial<Record<string, number>>): number {
  return Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);
}
