import type Database from 'better-sqlite3';
import type { StreamChunk } from '../../types.js';
import { prepareRowWriter } from '../rowWriter.js';

/**
 * Appends stream chunks and returns the seq SQLite gave each, in order, as insertEvents does:
 * the rows of one multi-row statement take consecutive seqs ending at its lastInsertRowid, since
 * the batch's transaction is the only writer. Index: stream_chunks_stream_seq_idx is maintained.
 */
export function prepareInsertChunks(db: Database.Database): (chunks: readonly StreamChunk[]) => number[] {
  const writer = prepareRowWriter<StreamChunk>(
    db,
    6,
    (values) => `INSERT INTO stream_chunks (run_id, step, stream, attempt, data, at) VALUES ${values}`,
    bindChunk,
  );
  return (chunks) => {
    const seqs = new Array<number>(chunks.length);
    writer.write(chunks, (result, first, count) => {
      const last = Number(result.lastInsertRowid);
      for (let i = 0; i < count; i++) seqs[first + i] = last - count + 1 + i;
    });
    return seqs;
  };
}

function bindChunk(chunk: StreamChunk, params: unknown[], offset: number): void {
  params[offset] = chunk.runId;
  params[offset + 1] = chunk.step;
  params[offset + 2] = chunk.stream;
  params[offset + 3] = chunk.attempt;
  params[offset + 4] = chunk.data;
  params[offset + 5] = chunk.at;
}
