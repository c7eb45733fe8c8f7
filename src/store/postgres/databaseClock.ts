/**
 * The database's clock in epoch milliseconds, as SQL. Deadlines and wake-up times are compared with
 * it, not with a worker's clock: hosts whose clocks disagree still agree on which runs are due. The
 * transaction's start (`now()`) rather than `clock_timestamp()`: one value for a whole claim or
 * commit, so a run due at the start of a claim is due throughout it.
 */
export const DATABASE_NOW_MS = '(extract(epoch from now()) * 1000)::bigint';
