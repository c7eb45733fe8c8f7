/** Page size of a chunk read: 1,000 by default, at most 10,000 (a 10 MB stream is a few pages). */
export const DEFAULT_CHUNK_PAGE_SIZE = 1_000;
export const MAX_CHUNK_PAGE_SIZE = 10_000;

export function chunkPageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_CHUNK_PAGE_SIZE;
  return Math.min(MAX_CHUNK_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}
