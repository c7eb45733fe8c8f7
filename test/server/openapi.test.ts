import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { serverFixture } from './helpers.js';

const fixture = serverFixture();

/** Every route of the API with its methods: the document must describe exactly these. */
const EXPECTED_ROUTES: Record<string, string[]> = {
  '/api/runs': ['get'],
  '/api/runs/{id}': ['get'],
  '/api/runs/{id}/children': ['get'],
  '/api/runs/{id}/cancel': ['post'],
  '/api/runs/{id}/pause': ['post'],
  '/api/runs/{id}/resume': ['post'],
  '/api/runs/{id}/replay': ['post'],
  '/api/runs/{id}/fork': ['post'],
  '/api/runs/{id}/inputs/{name}': ['post'],
  '/api/runs/{id}/steps/{step}/stream': ['get'],
  '/api/runs/{id}/steps/{step}/chunks': ['get'],
  '/api/workflows': ['get'],
  '/api/workflows/{name}': ['get'],
  '/api/workflows/{name}/runs': ['post'],
  '/api/events': ['get', 'post'],
  '/api/prune': ['post'],
  '/api/debounces': ['get'],
  '/api/schedules': ['get', 'post'],
  '/api/schedules/{id}': ['get', 'delete'],
  '/api/schedules/{id}/pause': ['post'],
  '/api/schedules/{id}/resume': ['post'],
  '/api/schedules/{id}/trigger': ['post'],
  '/api/schedules/{id}/backfill': ['post'],
  '/api/rate-limits': ['get', 'put', 'delete'],
  '/api/limits': ['get'],
  '/api/limits/max-runs/{workflow}': ['put', 'delete'],
  '/api/limits/pools/{pool}': ['put', 'delete'],
  '/metrics': ['get'],
  '/healthz': ['get'],
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` in the document, wherever it is. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') out.push(inner);
      else refsIn(inner, out);
    }
  }
  return out;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with every route and method', async () => {
    const { api } = fixture.setup();
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    const routes = Object.fromEntries(
      Object.entries(doc.paths as Record<string, object>).map(([path, item]) => [
        path,
        Object.keys(item).filter((k) => HTTP_METHODS.includes(k)),
      ]),
    );
    expect(routes).toEqual(EXPECTED_ROUTES);
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    const { api } = fixture.setup();
    const doc = (await api.get('/openapi.json')).body;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is structurally sound: responses per operation, path parameters declared, every $ref resolves', async () => {
    const { api } = fixture.setup();
    const doc = (await api.get('/openapi.json')).body;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(Object.keys(op.responses ?? {}).length, where).toBeGreaterThan(0);
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          expect(status, where).toMatch(/^[1-5]\d\d$/);
          expect(typeof response.description, `${where} ${status}`).toBe('string');
        }
        const pathParams = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path');
        expect(pathParams.map((p: { name: string }) => p.name).sort(), where).toEqual([...templated].sort());
        for (const p of pathParams) expect(p.required, `${where} ${p.name}`).toBe(true);
        for (const p of op.parameters ?? []) {
          expect(['query', 'header', 'path', 'cookie'], where).toContain(p.in);
          expect(p.schema, `${where} ${p.name}`).toBeTypeOf('object');
        }
      }
    }
    for (const ref of refsIn(doc)) {
      const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
      expect(match, ref).not.toBeNull();
      expect(doc.components.schemas[match![1]!], ref).toBeDefined();
    }
  });

  it('documents the request and response bodies that matter to clients', async () => {
    const { api } = fixture.setup();
    const doc = (await api.get('/openapi.json')).body;
    const start = doc.paths['/api/workflows/{name}/runs'].post;
    expect(start.requestBody.required).toBe(true);
    expect(start.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/StartRunRequest');
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '404', '413', '422']));
    expect(doc.components.schemas.StartRunRequest.properties).toHaveProperty('idempotencyKey');
    expect(
      doc.components.schemas.Run.properties.status.$ref ?? doc.components.schemas.Run.properties.status.enum,
    ).toBeTruthy();
    expect(doc.components.schemas.RunStatus.enum).toEqual([
      'queued',
      'running',
      'waiting',
      'paused',
      'succeeded',
      'failed',
      'cancelled',
      'timed_out',
    ]);
    expect(Object.keys(doc.components.schemas.RunDetail.properties)).toEqual(
      expect.arrayContaining(['run', 'steps', 'events', 'attempts', 'children', 'parent', 'replayOf']),
    );
    expect(doc.paths['/api/events'].get.responses['200'].content).toHaveProperty('text/event-stream');
    expect(doc.paths['/api/events'].get.responses['200'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/InboxPage',
    );
    expect(doc.paths['/api/events'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['runId', 'after', 'name', 'limit', 'last-event-id']),
    );
    expect(doc.components.schemas.RunDetail.properties.waits.items.$ref).toBe('#/components/schemas/Wait');
    expect(Object.keys(doc.components.schemas.Wait.properties)).toEqual(
      expect.arrayContaining(['step', 'key', 'kind', 'status', 'name', 'dueAt', 'request', 'value']),
    );
    expect(doc.components.schemas.WaitKind.enum).toEqual(['sleep', 'event', 'input']);

    const send = doc.paths['/api/events'].post;
    expect(send.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SendEventRequest');
    expect(doc.components.schemas.SendEventRequest.required).toEqual(['name']);
    expect(Object.keys(send.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '422']));
    expect(send.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/SentEvent');

    const input = doc.paths['/api/runs/{id}/inputs/{name}'].post;
    expect(input.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ProvideInputRequest');
    expect(doc.components.schemas.ProvideInputRequest.required).toEqual(['value']);
    expect(Object.keys(input.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '409', '422']));
    expect(input.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/ProvidedInput');

    const listParams = doc.paths['/api/runs'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParams).toEqual(
      expect.arrayContaining(['workflow', 'status', 'parentRunId', 'rootRunId', 'since', 'until', 'limit', 'cursor']),
    );
    expect(doc.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
  });
});
