import { describe, expect, it } from 'vitest';
import { serverFixture } from './helpers.js';
import { child, fanOut, greet, order } from './workflows.fixtures.js';

const fixture = serverFixture();

describe('GET /api/workflows', () => {
  it('lists registered workflows with their DAG, options and input JSON Schema', async () => {
    const { api } = fixture.setup({ workflows: [order, greet, fanOut, child] });
    const res = await api.get('/api/workflows');
    expect(res.status).toBe(200);
    expect(res.body.workflows.map((w: { name: string }) => w.name)).toEqual(['child', 'fan-out', 'greet', 'order']);
    const shape = res.body.workflows.find((w: { name: string }) => w.name === 'order');
    expect(shape).toMatchObject({ name: 'order', version: '1', description: 'Prices an order' });
    expect(shape.inputSchema).toMatchObject({
      type: 'object',
      properties: { id: { type: 'string' }, qty: { type: 'integer' } },
      required: ['id', 'qty'],
    });
    expect(shape.steps).toEqual([
      {
        name: 'fetch',
        parents: [],
        routes: [],
        pool: null,
        retries: null,
        timeoutSeconds: null,
        cache: null,
        hasFallback: false,
        isConditional: false,
        requireAllParents: false,
      },
      {
        name: 'price',
        parents: ['fetch'],
        routes: [],
        pool: null,
        retries: 2,
        timeoutSeconds: 5,
        cache: true,
        hasFallback: false,
        isConditional: false,
        requireAllParents: false,
      },
    ]);
  });

  it('leaves the input schema out when it is not zod (no common converter)', async () => {
    const { api } = fixture.setup({ workflows: [greet] });
    const res = await api.get('/api/workflows/greet');
    expect(res.status).toBe(200);
    expect(res.body.inputSchema).toBeNull();
  });

  it('answers 404 for an unknown workflow', async () => {
    const { api } = fixture.setup({ workflows: [order] });
    const res = await api.get('/api/workflows/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('workflow_not_registered');
  });

  it('checks a valibot input through Standard Schema when starting a run', async () => {
    const { api } = fixture.setup({ workflows: [greet] });
    const bad = await api.post('/api/workflows/greet/runs', { input: { name: 1 } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.issues[0].path).toEqual(['name']);
    const good = await api.post('/api/workflows/greet/runs?wait=true', { input: { name: 'Ada' } });
    expect(good.body.result.output).toBe('hello Ada');
  });
});
