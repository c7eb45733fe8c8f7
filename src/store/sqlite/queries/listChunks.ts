import type Database from 'better-sqlite3';
import { chunkPageSize } from '../../chunkPaging.js';
import type { ChunkQuery, StreamChunk } from '../../types.js';

const CHUNK_COLUMNS = 'seq, run_id AS runId, step, stream, attempt, data, at';

/**
 * A step's stream chunks after a seq, in seq order: of one stream (one range of
 * stream_chunks_stream_seq_idx), of every stream of the step (its (run_id, step) prefix, sorted),
 * or of every step of the run (its run_id prefix, sorted; `handle.stream()`).
 * `attempt` filters within the range: a step has few attempts. The NULL test keeps one statement
 * per shape rather than SQL glued from optional fragments.
 */
export function prepareListChunks(db: Database.Database): (query: ChunkQuery) => StreamChunk[] {
  const ofStream = db.prepare<[string, string, string, number, number | null, number | null, number], StreamChunk>(
    `SELECT ${CHUNK_COLUMNS} FROM stream_chunks
      WHERE run_id = ? AND step = ? AND stream = ? AND seq > ? AND (? IS NULL OR attempt = ?)
      ORDER BY seq LIMIT ?`,
  );
  const ofStep = db.prepare<[string, string, number, number | null, number | null, number], StreamChunk>(
    `SELECT ${CHUNK_COLUMNS} FROM stream_chunks
      WHERE run_id = ? AND step = ? AND seq > ? AND (? IS NULL OR attempt = ?)
      ORDER BY seq LIMIT ?`,
  );
  const ofRun = db.prepare<
    [string, number, string | null, string | null, number | null, number | null, number],
    StreamChunk
  >(
    `SELECT ${CHUNK_COLUMNS} FROM stream_chunks
      WHERE run_id = ? AND seq > ? AND (? IS NULL OR stream = ?) AND (? IS NULL OR attempt = ?)
      ORDER BY seq LIMIT ?`,
  );
  return (q) => {
    const attempt = q.attempt ?? null;
    const limit = chunkPageSize(q.limit);
    if (q.step === undefined) {
      const stream = q.stream ?? null;
      return ofRun.all(q.runId, q.afterSeq ?? 0, stream, stream, attempt, attempt, limit);
    }
    return q.stream === undefined
      ? ofStep.all(q.runId, q.step, q.afterSeq ?? 0, attempt, attempt, limit)
      : ofStream.all(q.runId, q.step, q.stream, q.afterSeq ?? 0, attempt, attempt, limit);
  };
}
