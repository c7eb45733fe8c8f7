/**
 * The dashboard keeps its own copy of the API's JSON types (dashboard/src/api/types.ts: it is built
 * apart and talks to the server over HTTP only). These assertions hold that copy to the server's
 * schemas, the ones the OpenAPI document is made from: what the server sends must be what the
 * dashboard reads, each field it reads present with a type it accepts (it may leave fields unread).
 * A field the dashboard reads that the server renames, drops or retypes fails `npm run typecheck`,
 * which checks this file, before any browser test would notice.
 */
import type { z } from '@hono/zod-openapi';
import { describe, expectTypeOf, it } from 'vitest';
import type * as Dashboard from '../../dashboard/src/api/types.js';
import type * as Api from '../../src/server/schemas.js';

type Json<S extends z.ZodTypeAny> = z.infer<S>;

describe("the dashboard's API types", () => {
  it('are the JSON the server sends for runs, steps, waits and pages', () => {
    expectTypeOf<Json<typeof Api.RunSchema>>().toExtend<Dashboard.Run>();
    expectTypeOf<Json<typeof Api.StepSchema>>().toExtend<Dashboard.Step>();
    expectTypeOf<Json<typeof Api.EventSchema>>().toExtend<Dashboard.BraidEvent>();
    expectTypeOf<Json<typeof Api.AttemptSchema>>().toExtend<Dashboard.Attempt>();
    expectTypeOf<Json<typeof Api.WaitSchema>>().toExtend<Dashboard.Wait>();
    expectTypeOf<Json<typeof Api.RunDetailSchema>>().toExtend<Dashboard.RunDetail>();
    expectTypeOf<Json<typeof Api.RunPageSchema>>().toExtend<Dashboard.RunPage>();
    expectTypeOf<Json<typeof Api.ChildrenPageSchema>>().toExtend<Dashboard.ChildrenPage>();
    expectTypeOf<Json<typeof Api.WorkflowShapeSchema>>().toExtend<Dashboard.WorkflowShape>();
    expectTypeOf<Json<typeof Api.StreamChunkSchema>>().toExtend<Dashboard.StreamChunk>();
    expectTypeOf<Json<typeof Api.ErrorResponseSchema>>().toExtend<Dashboard.ApiErrorBody>();
  });

  it('are the JSON the server sends for schedules, debounces and limits', () => {
    expectTypeOf<Json<typeof Api.ScheduleSchema>>().toExtend<Dashboard.Schedule>();
    expectTypeOf<Json<typeof Api.ScheduleDetailSchema>>().toExtend<Dashboard.ScheduleDetail>();
    expectTypeOf<Json<typeof Api.PendingDebounceSchema>>().toExtend<Dashboard.PendingDebounce>();
    expectTypeOf<Json<typeof Api.RateLimitSchema>>().toExtend<Dashboard.RateLimitView>();
    expectTypeOf<Json<typeof Api.LimitsSchema>>().toExtend<Dashboard.LimitsView>();
  });
});
