/**
 * The exit codes of `braid`, the contract scripts rely on. Never renumber one: add a new code.
 */
export const ExitCode = {
  /** The command did what it was asked; with `--wait`, the run succeeded. */
  ok: 0,
  /**
   * The run failed, was cancelled or timed out; the server refused the action (a finished run, a
   * wrong token); or the database cannot be opened (StoreOpenError, StoreConnectionError).
   */
  failed: 1,
  /** Bad usage: an unknown option, a missing argument, `--input` or `--data` that is not JSON. */
  usage: 2,
  /** No Braid server answers at `--url` (BRAID_URL). */
  unreachable: 3,
  /** No such run or workflow. */
  notFound: 4,
  /**
   * A schema refused the value, and nothing changed: the workflow's for `--input` (no run was
   * created), the input's for `braid input --data`, a triggered workflow's for `send-event --data`.
   */
  invalidInput: 5,
  /** Interrupted (Ctrl-C) while waiting; the run goes on. 128 + SIGINT, as shells do. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
