import type pg from 'pg';
import type { ChildLink, RunControl, RunRecord, StepRecord, WaitRecord } from '../../types.js';
import { DATABASE_NOW_MS } from '../databaseClock.js';
import { RUN_COLUMNS, STEP_COLUMNS } from '../recordColumns.js';
import { linkColumnsOf } from './getChildLinks.js';
import { WAIT_COLUMNS } from './getWaits.js';

/** A claimed run's row, with the control request it carries. */
export type ClaimRow = RunRecord & { requestedAction: RunControl['action'] | null; requestedReason: string | null };

export const CLAIM_COLUMNS = `${RUN_COLUMNS}, requested_action AS "requestedAction", requested_reason AS "requestedReason"`;

/** Statuses of runs that are not over and not paused: what a worker carries on. */
export const UNFINISHED = `('queued', 'running', 'waiting')`;

/**
 * Runs no one sleeps in (or carrying a control request) of the workflows $2/$3, not owned, that
 * need no admission (no concurrency key, already admitted, or a control request: cancelling a
 * queued run needs no slot). Read twice, by age and by priority, with one meaning.
 */
const AWAKE_CLAIMABLE = `r.owner_id IS NULL
             AND ((r.wake_at IS NULL AND r.status IN ${UNFINISHED}) OR r.requested_action IS NOT NULL)
             AND (r.workflow, r.version) IN (SELECT * FROM unnest($2::text[], $3::text[]))
             AND (r.concurrency_key IS NULL OR r.status <> 'queued' OR r.requested_action IS NOT NULL)`;

export interface ClaimRunsParams {
  workerId: string;
  /** The (workflow, version) pairs the worker runs. */
  names: readonly string[];
  versions: readonly string[];
  limit: number;
  /** How many of the `limit` go to the oldest runs whatever their priority (see oldestShare). */
  oldestShare: number;
}

/**
 * Steps that may run again once their run is claimed, and so whose links the claim carries: with
 * `attempts > 0`, the steps whose ChildRegistry starts unloaded when the run is hydrated
 * (src/engine/runTable.ts) and which read their links before their code runs again
 * (Attempts.loadChildren in src/engine/attempts.ts).
 */
const UNFINISHED_STEPS = `('pending', 'queued', 'running', 'waiting')`;

export type ChildLinksOfStep = { step: string; links: ChildLink[] };

export interface ClaimedRunRow {
  row: ClaimRow;
  steps: StepRecord[];
  waits: WaitRecord[];
  /** The child links of each unfinished step that ran before (see ClaimedRun.childLinks). */
  childLinks: ChildLinksOfStep[];
}

/**
 * Claims up to `limit` runs for the worker (owner_id = $1) and reads their steps and waits, in ONE
 * autocommitted statement: one round trip where BEGIN, claim, read, COMMIT took four (W10, a run
 * woken by an event: the claim was ~2.5 of its 7.9 ms). Named: planned once per connection, where
 * the unnamed statement was planned on every claim (~0.7 ms of server time).
 *
 * Two sources, each through its own partial index: runs asleep whose wake-up has come by the
 * database's clock (runs_wake_idx; an event or input that settles a wait sets wake_at = now),
 * first, since they are late already; then runs no one sleeps in, by priority then arrival
 * (runs_claimable_priority_idx), except the anti-starvation share of the batch, which goes to the
 * oldest whatever their priority (runs_claimable_idx). A debounced run of a workflow with maxRuns
 * is admitted by claimKeyedRuns once due, not here. FOR UPDATE SKIP LOCKED: a run another worker
 * is claiming, or whose waits a commit is settling (lockRunsOfWaits), is passed over, not waited
 * for; a worker that no longer exists (reaped mid-claim) claims nothing.
 *
 * The claim also carries the child links of each claimed run's unfinished steps that ran before
 * (possibly none; index runs_spawn_key_idx): a step run again needs them before its code does, and
 * its own read of them was a round trip after the claim (0.6-1.7 ms of W10's 7-9 ms p50 for a run
 * asleep out of memory, load 3-5). They are read with the statement's snapshot, from before the
 * locks: a child that settled after it sends braid_settled after this claim began, and the
 * claimer keeps such notices until it holds the run (ClusterMember.settledNoticesInClaim).
 *
 * The steps and waits are read by braid.steps_of_runs_now / waits_of_runs_now (migration 0013),
 * whose argument is every claimed id: they run once all the claimed runs are locked, each with a
 * snapshot taken then, not the statement's (taken before the locks). So a wait settled after the
 * statement began but before its run was locked is read settled, as the read in a later statement
 * of the old transaction did; a settle after the lock waits for this statement's commit and then
 * tells the new owner (braid_waits). A subquery on braid.waits here would read it pending.
 * Indexes: runs primary key, steps and waits primary keys (run_id first).
 */
export async function claimRuns(db: pg.Pool, p: ClaimRunsParams): Promise<ClaimedRunRow[]> {
  const { rows } = await db.query<
    ClaimRow & { claimedSteps: StepRecord[]; claimedWaits: WaitRecord[]; claimedLinks: ChildLinksOfStep[] }
  >({
    name: 'braid_claim_runs',
    text: `WITH due AS (
             SELECT r.id FROM braid.runs r
             WHERE r.wake_at <= ${DATABASE_NOW_MS} AND r.owner_id IS NULL AND r.requested_action IS NULL
               AND r.status IN ${UNFINISHED}
               AND (r.workflow, r.version) IN (SELECT * FROM unnest($2::text[], $3::text[]))
               AND (r.concurrency_key IS NULL OR r.status <> 'queued')
             ORDER BY r.wake_at, r.id
             LIMIT $4
             FOR UPDATE SKIP LOCKED
           ), oldest AS (
             SELECT r.id FROM braid.runs r
             WHERE ${AWAKE_CLAIMABLE}
             ORDER BY r.id
             LIMIT $5
             FOR UPDATE SKIP LOCKED
           ), awake AS (
             SELECT r.id FROM braid.runs r
             WHERE ${AWAKE_CLAIMABLE}
               AND r.id NOT IN (SELECT id FROM oldest)
             ORDER BY r.priority DESC, r.id
             LIMIT $4
             FOR UPDATE SKIP LOCKED
           ), candidates AS (
             SELECT id AS claim_id FROM due
             UNION ALL SELECT id FROM oldest
             UNION ALL SELECT id FROM awake
             LIMIT $4
           ), claimed AS (
             UPDATE braid.runs r SET owner_id = $1
             FROM candidates c
             WHERE r.id = c.claim_id AND EXISTS (SELECT 1 FROM braid.workers w WHERE w.id = $1)
             RETURNING ${CLAIM_COLUMNS}
           ), claimed_ids AS (
             SELECT array_agg(id) AS ids FROM claimed
           ), step_rows AS (
             SELECT * FROM braid.steps_of_runs_now((SELECT ids FROM claimed_ids))
           ), steps AS (
             SELECT s."runId" AS run_id, json_agg(s ORDER BY s.name COLLATE "C") AS list
               FROM (SELECT ${STEP_COLUMNS} FROM step_rows) AS s
              GROUP BY s."runId"
           ), links AS (
             SELECT sr.run_id, json_agg(json_build_object('step', sr.name, 'links', coalesce((
                      SELECT json_agg(l ORDER BY k.created_at, k.id)
                        FROM braid.runs k CROSS JOIN LATERAL (SELECT ${linkColumnsOf('k')}) AS l
                       WHERE k.parent_run_id = sr.run_id AND k.parent_step = sr.name AND k.spawn_key IS NOT NULL),
                      '[]'))) AS list
               FROM step_rows sr
              WHERE sr.attempts > 0 AND sr.status IN ${UNFINISHED_STEPS}
              GROUP BY sr.run_id
           ), waits AS (
             SELECT w."runId" AS run_id, json_agg(w ORDER BY w."createdAt", w.step COLLATE "C", w.key COLLATE "C") AS list
               FROM (SELECT ${WAIT_COLUMNS} FROM braid.waits_of_runs_now((SELECT ids FROM claimed_ids))) AS w
              GROUP BY w."runId"
           )
           SELECT c.*, coalesce(s.list, '[]') AS "claimedSteps", coalesce(w.list, '[]') AS "claimedWaits",
                  coalesce(l.list, '[]') AS "claimedLinks"
             FROM claimed c
             LEFT JOIN steps s ON s.run_id = c.id
             LEFT JOIN waits w ON w.run_id = c.id
             LEFT JOIN links l ON l.run_id = c.id`,
    values: [p.workerId, p.names, p.versions, p.limit, p.oldestShare],
  });
  return rows.map(({ claimedSteps, claimedWaits, claimedLinks, ...row }) => ({
    row,
    steps: claimedSteps,
    waits: claimedWaits,
    childLinks: claimedLinks,
  }));
}
