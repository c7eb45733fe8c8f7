import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { WorkflowExecutor } from '../../executor/workflowExecutor.js';
import { WorkflowNotRegisteredError } from '../../model/errors.js';
import type { Workflow } from '../../model/workflow.js';
import type { ServerDeps } from '../deps.js';
import {
  StartedRunSchema,
  StartRunBodySchema,
  StartRunQuerySchema,
  WorkflowNameParamsSchema,
  WorkflowShapeSchema,
} from '../schemas.js';
import { executionSummary } from '../views.js';
import { workflowShape } from '../workflowShape.js';
import { errorResponses, jsonResponse } from './responses.js';

const listWorkflows = createRoute({
  method: 'get',
  path: '/api/workflows',
  tags: ['workflows'],
  summary: 'The registered workflows: options, input JSON Schema and the DAG of steps',
  responses: {
    200: jsonResponse(z.object({ workflows: z.array(WorkflowShapeSchema) }), 'The workflows, by name'),
    ...errorResponses(401),
  },
});

const getWorkflow = createRoute({
  method: 'get',
  path: '/api/workflows/{name}',
  tags: ['workflows'],
  summary: 'One registered workflow',
  request: { params: WorkflowNameParamsSchema },
  responses: { 200: jsonResponse(WorkflowShapeSchema, 'The workflow'), ...errorResponses(401, 404) },
});

const startRun = createRoute({
  method: 'post',
  path: '/api/workflows/{name}/runs',
  tags: ['workflows', 'actions'],
  summary: 'Start a run (201), or return the run an idempotency key already names (200)',
  description:
    "The input is checked against the workflow's schema before anything is stored: a mismatch is a 422 " +
    'with the schema issues and no run. With `?wait=true` the answer comes when the run ends, with its result.',
  request: {
    params: WorkflowNameParamsSchema,
    query: StartRunQuerySchema,
    body: { required: true, content: { 'application/json': { schema: StartRunBodySchema } } },
  },
  responses: {
    201: jsonResponse(StartedRunSchema, 'A new run was started'),
    200: jsonResponse(StartedRunSchema, 'The run the idempotency key already named'),
    ...errorResponses(400, 401, 404, 413, 415, 422),
  },
});

export function registerWorkflowRoutes(app: OpenAPIHono, { executor }: ServerDeps): void {
  app.openapi(listWorkflows, (c) => {
    const workflows = [...executor.workflows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return c.json({ workflows: workflows.map(workflowShape) }, 200);
  });

  app.openapi(getWorkflow, (c) => {
    const { name } = c.req.valid('param');
    return c.json(workflowShape(requireWorkflow(executor, name)), 200);
  });

  app.openapi(startRun, async (c) => {
    const { name } = c.req.valid('param');
    const { wait } = c.req.valid('query');
    const body = c.req.valid('json');
    const workflow = requireWorkflow(executor, name);
    // The executor returns the existing run for a known key without saying so; asking the store
    // first tells a replayed request (200) from a new run (201). Two concurrent first requests both
    // get 201 with the same runId: the engine still creates one run.
    const existing =
      body.idempotencyKey === undefined ? undefined : await executor.store.findRunByIdempotencyKey(body.idempotencyKey);
    const handle = await executor.start(workflow, body.input, {
      idempotencyKey: body.idempotencyKey,
      globals: body.globals,
      priority: body.priority,
    });
    const status = existing?.id === handle.runId ? 200 : 201;
    if (!wait) return c.json({ runId: handle.runId }, status);
    const result = await handle.result();
    return c.json({ runId: handle.runId, result: executionSummary(result) }, status);
  });
}

function requireWorkflow(executor: WorkflowExecutor, name: string): Workflow<any, any, any> {
  const workflows = executor.workflows;
  const workflow = workflows.find((w) => w.name === name);
  if (!workflow)
    throw new WorkflowNotRegisteredError(
      name,
      workflows.map((w) => w.name),
    );
  return workflow;
}
