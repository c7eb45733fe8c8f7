import type pg from 'pg';
import { chunkPageSize } from '../../chunkPaging.js';
import type { ChunkQuery, StreamChunk } from '../../types.js';

const CHUNK_COLUMNS = 'seq, run_id AS "runId", step, stream, attempt, data, at';

/**
 * A step's stream chunks after a seq, in seq order: of one stream (one range of
 * stream_chunks_stream_seq_idx), of every stream of the step (its (run_id, step) prefix), or of
 * every step of the run (its run_id prefix; `handle.stream()`).
 * `attempt` filters within the range (a step has few attempts); `$n IS NULL` keeps one named
 * statement per shape rather than SQL glued from optional fragments.
 */
export async function listChunks(db: pg.Pool, q: ChunkQuery): Promise<StreamChunk[]> {
  const attempt = q.attempt ?? null;
  const limit = chunkPageSize(q.limit);
  if (q.step === undefined) {
    const { rows } = await db.query<StreamChunk>({
      name: 'braid_list_chunks_of_run',
      text: `SELECT ${CHUNK_COLUMNS} FROM braid.stream_chunks
              WHERE run_id = $1 AND seq > $2 AND ($3::text IS NULL OR stream = $3)
                AND ($4::integer IS NULL OR attempt = $4)
              ORDER BY seq LIMIT $5`,
      values: [q.runId, q.afterSeq ?? 0, q.stream ?? null, attempt, limit],
    });
    return rows;
  }
  const { rows } = await db.query<StreamChunk>(
    q.stream === undefined
      ? {
          name: 'braid_list_chunks_of_step',
          text: `SELECT ${CHUNK_COLUMNS} FROM braid.stream_chunks
                  WHERE run_id = $1 AND step = $2 AND seq > $3 AND ($4::integer IS NULL OR attempt = $4)
                  ORDER BY seq LIMIT $5`,
          values: [q.runId, q.step, q.afterSeq ?? 0, attempt, limit],
        }
      : {
          name: 'braid_list_chunks_of_stream',
          text: `SELECT ${CHUNK_COLUMNS} FROM braid.stream_chunks
                  WHERE run_id = $1 AND step = $2 AND stream = $3 AND seq > $4 AND ($5::integer IS NULL OR attempt = $5)
                  ORDER BY seq LIMIT $6`,
          values: [q.runId, q.step, q.stream, q.afterSeq ?? 0, attempt, limit],
        },
  );
  return rows;
}
