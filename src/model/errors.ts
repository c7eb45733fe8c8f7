/**
 * Every error Braid raises is a `BraidError` with a stable string `code`. Each failure has its own
 * subclass whose constructor takes the facts and writes a message that says what to do next.
 * The user's original error, when there is one, is kept as `cause`.
 */
export abstract class BraidError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown by user code to say "do not retry this": the step fails at once (its fallback still runs). */
export class NonRetryableError extends BraidError {
  readonly code = 'non_retryable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class InvalidWorkflowError extends BraidError {
  readonly code: string = 'invalid_workflow';
  constructor(
    readonly workflow: string,
    readonly step: string | undefined,
    detail: string,
  ) {
    super(`Workflow "${workflow}"${step === undefined ? '' : `, step "${step}"`}: ${detail}`);
  }
}

export class DuplicateStepError extends InvalidWorkflowError {
  override readonly code = 'duplicate_step';
  constructor(workflow: string, step: string) {
    super(workflow, step, 'a step with this name already exists. Step names must be unique within a workflow.');
  }
}

export class UnknownParentError extends InvalidWorkflowError {
  override readonly code = 'unknown_parent';
  constructor(
    workflow: string,
    step: string,
    readonly parent: string,
  ) {
    super(
      workflow,
      step,
      `lists parent "${parent}", which is not a step of this workflow. Fix the name, or declare "${parent}" first.`,
    );
  }
}

export class CycleError extends InvalidWorkflowError {
  override readonly code = 'cycle';
  constructor(
    workflow: string,
    readonly cycle: readonly string[],
  ) {
    super(
      workflow,
      cycle[0],
      `the steps form a cycle (${cycle.join(' -> ')}). A workflow must be a DAG: remove one of these parent links.`,
    );
  }
}

export class MissingStepFunctionError extends InvalidWorkflowError {
  override readonly code = 'missing_step_function';
  constructor(workflow: string, step: string) {
    super(workflow, step, 'has no function to run. Pass `async (ctx) => ...` as the last argument of `.step()`.');
  }
}

export class InvalidRouteError extends InvalidWorkflowError {
  override readonly code = 'invalid_route';
  constructor(
    workflow: string,
    step: string,
    readonly target: string,
    readonly children: readonly string[],
  ) {
    super(
      workflow,
      step,
      `routes to "${target}", which is not one of its children (${children.length ? children.map((c) => `"${c}"`).join(', ') : 'it has none'}). ` +
        `A step can only route to steps that list it as a parent.`,
    );
  }
}

export class InvalidInputError extends BraidError {
  readonly code = 'invalid_input';
  constructor(
    readonly workflow: string,
    readonly issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }>,
  ) {
    super(
      `Workflow "${workflow}": the input does not match its schema: ${issues
        .map((i) => `${formatPath(i.path)}${i.message}`)
        .join('; ')}. No run was created.`,
    );
  }
}

function formatPath(path: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined): string {
  if (!path || path.length === 0) return '';
  return `${path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}: `;
}

export class NotSerializableError extends BraidError {
  readonly code = 'not_serializable';
  constructor(
    readonly what: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${what} cannot be stored as JSON: ${detail}. Return plain data (objects, arrays, strings, numbers, booleans, null).`,
      options,
    );
  }
}

export class RunNotFoundError extends BraidError {
  readonly code = 'run_not_found';
  constructor(readonly runId: string) {
    super(`No run with id "${runId}". Check the id (runs are listed with \`braid runs\`).`);
  }
}

export class WorkflowNotRegisteredError extends BraidError {
  readonly code = 'workflow_not_registered';
  constructor(
    readonly workflow: string,
    readonly known: readonly string[],
  ) {
    super(
      `Workflow "${workflow}" is not registered with this executor (known: ${known.length ? known.join(', ') : 'none'}). ` +
        `Pass it in \`new WorkflowExecutor({ workflows: [...] })\` or call \`executor.register(workflow)\`.`,
    );
  }
}

export class InvalidStateError extends BraidError {
  readonly code = 'invalid_state';
  constructor(
    readonly runId: string,
    readonly status: string,
    readonly action: string,
  ) {
    super(`Cannot ${action} run "${runId}": it is ${status}.`);
  }
}

export class StepTimeoutError extends BraidError {
  readonly code = 'step_timeout';
  constructor(
    readonly step: string,
    readonly timeoutSeconds: number,
  ) {
    super(`Step "${step}" did not finish within ${timeoutSeconds}s. Raise its \`timeoutSeconds\` or make it faster.`);
  }
}

export class RunTimeoutError extends BraidError {
  readonly code = 'run_timeout';
  constructor(
    readonly runId: string,
    readonly timeoutSeconds: number,
  ) {
    super(
      `Run "${runId}" did not finish within ${timeoutSeconds}s and was stopped. Raise the workflow's \`timeoutSeconds\`.`,
    );
  }
}

export class RunCancelledError extends BraidError {
  readonly code = 'run_cancelled';
  constructor(
    readonly runId: string,
    reason?: string,
  ) {
    super(`Run "${runId}" was cancelled${reason ? `: ${reason}` : ''}.`);
  }
}

export class StepFailedError extends BraidError {
  readonly code = 'step_failed';
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly stepError: SerializedError,
  ) {
    super(`Run "${runId}" failed at step "${step}": ${stepError.message}`);
  }
}

export class ChildWorkflowError extends BraidError {
  readonly code = 'child_failed';
  constructor(
    readonly childRunId: string,
    readonly workflow: string,
    readonly childStatus: string,
    readonly childError: SerializedError | undefined,
  ) {
    super(
      `Child run "${childRunId}" of workflow "${workflow}" ${childStatus}${childError ? `: ${childError.message}` : ''}`,
    );
  }
}

export class SpawnError extends BraidError {
  readonly code = 'spawn_failed';
  constructor(
    readonly workflow: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot spawn child workflow "${workflow}": ${detail}`, options);
  }
}

export class StoreVersionError extends BraidError {
  readonly code = 'store_version';
  constructor(
    readonly where: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `The database at ${where} is at schema version ${found}, newer than this Braid knows (${known}). ` +
        'Upgrade Braid, or point it at another database.',
    );
  }
}

/** Why a store could not connect: each has its own message and next step. */
export type StoreConnectionProblem =
  | 'malformed_url'
  | 'unreachable'
  | 'timeout'
  | 'authentication'
  | 'missing_database';

const CONNECTION_ADVICE: Record<StoreConnectionProblem, string> = {
  malformed_url:
    'is not a valid PostgreSQL connection string. Use postgres://user:password@host:5432/database ' +
    '(check BRAID_DATABASE_URL / --database-url).',
  unreachable:
    'could not be reached. Check that the PostgreSQL server is running and that the host and port in ' +
    'BRAID_DATABASE_URL / --database-url are right.',
  timeout:
    'did not answer in time. Check that the PostgreSQL server is running and reachable from this host ' +
    '(host, port, firewall) in BRAID_DATABASE_URL / --database-url.',
  authentication: 'refused the user name or password. Check the credentials in BRAID_DATABASE_URL / --database-url.',
  missing_database:
    'has no such database. Create it (`createdb NAME`) or fix the database name in BRAID_DATABASE_URL / --database-url.',
};

export class StoreConnectionError extends BraidError {
  readonly code = 'store_connection';
  constructor(
    readonly where: string,
    readonly problem: StoreConnectionProblem,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot connect to ${where}: ${detail}. The database ${CONNECTION_ADVICE[problem]}`, options);
  }
}

/** The database's schema is older than this Braid and the store was told not to migrate. */
export class StoreMigrationRequiredError extends BraidError {
  readonly code = 'store_migration_required';
  constructor(
    readonly where: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `The database at ${where} is at schema version ${found}, older than this Braid needs (${known}), ` +
        'and migrations are off (migrate: false). Run `braid migrate --database-url <url>` ' +
        '(or open the store once with migrate: true), then start again.',
    );
  }
}

export class StoreLockedError extends BraidError {
  readonly code = 'store_locked';
  constructor(
    readonly where: string,
    readonly pid: number | undefined,
  ) {
    super(
      `The SQLite database ${where} is in use by another Braid executor${pid === undefined ? '' : ` (pid ${pid})`}. ` +
        'One executor runs a SQLite file at a time: stop the other process, give this one another file ' +
        '(BRAID_DB), or use PostgreSQL to run several workers.',
    );
  }
}

export class ExecutorClosedError extends BraidError {
  readonly code = 'executor_closed';
  constructor() {
    super('This WorkflowExecutor was cleaned up. Create a new one to start or resume runs.');
  }
}

/** A second, different definition under a name and version the executor already has. */
export class DuplicateWorkflowError extends InvalidWorkflowError {
  override readonly code = 'duplicate_workflow';
  constructor(
    workflow: string,
    readonly version: string,
    readonly registeredSteps: readonly string[],
    readonly newSteps: readonly string[],
  ) {
    const same = registeredSteps.join(',') === newSteps.join(',');
    const difference = same
      ? `the same steps (${newSteps.join(', ')}) with other code or options`
      : `steps ${newSteps.join(', ')}, where the registered one has ${registeredSteps.join(', ')}`;
    super(
      workflow,
      undefined,
      `version "${version}" is already registered with another definition: the new one has ${difference}. ` +
        'Two definitions cannot share a name and version in one executor: rename one, give it another `version`, ' +
        'or register one of them.',
    );
  }
}

export class UnknownPoolError extends InvalidWorkflowError {
  override readonly code = 'unknown_pool';
  constructor(
    workflow: string,
    step: string,
    readonly pool: string,
  ) {
    super(
      workflow,
      step,
      `uses pool "${pool}", which is not configured. Add it to the executor: \`pools: { ${pool}: N }\`.`,
    );
  }
}

/** An executor or worker setting that cannot work (a size of 0, a negative count...). */
export class InvalidConfigError extends BraidError {
  readonly code = 'invalid_config';
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`${option} ${detail}`);
  }
}

/** A step's context was used after its attempt ended (a missing `await`, a callback that fired late). */
export class StepEndedError extends BraidError {
  readonly code = 'step_ended';
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly attempt: number,
    readonly call: string,
  ) {
    super(
      `\`ctx.${call}\` was called after attempt ${attempt} of step "${step}" (run "${runId}") had ended, so it ` +
        'was refused and changed nothing. Await everything a step starts before the step returns.',
    );
  }
}

/** A join given handles it cannot wait on, or a policy it can never meet. */
export class InvalidJoinError extends BraidError {
  readonly code = 'invalid_join';
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`Step "${step}" cannot join: ${detail}`);
  }
}

/** An idempotency key that already names a run of another workflow. */
export class IdempotencyConflictError extends BraidError {
  readonly code = 'idempotency_conflict';
  constructor(
    readonly idempotencyKey: string,
    readonly existingRunId: string,
    readonly existingWorkflow: string,
    readonly workflow: string,
  ) {
    super(
      `Idempotency key "${idempotencyKey}" already names run "${existingRunId}" of workflow "${existingWorkflow}", ` +
        `so it cannot start a run of workflow "${workflow}". Use a key per workflow (prefix it with the workflow name).`,
    );
  }
}

/** In a cluster: another worker took the run over (this worker's lease expired), so its late writes were refused. */
export class RunTakenOverError extends BraidError {
  readonly code = 'run_taken_over';
  constructor(readonly runId: string) {
    super(
      `Run "${runId}" was taken over by another worker after this worker's lease expired; this worker's late ` +
        'results for it were refused and the run goes on there. Raise `worker.leaseMs` if steps block the event loop.',
    );
  }
}

/** The store holds the run as ended already (another process ended it): this process's later changes were not written. */
export class RunEndedElsewhereError extends BraidError {
  readonly code = 'run_ended_elsewhere';
  constructor(readonly runId: string) {
    super(
      `Run "${runId}" had already ended in the store when this process wrote to it, so nothing more of it was ` +
        'written: a finished run is final. Another process ended it (a cancel, say); read it again for its outcome.',
    );
  }
}

/** A page cursor Braid did not write (or that was changed). */
export class InvalidCursorError extends BraidError {
  readonly code = 'invalid_cursor';
  constructor(readonly cursor: string) {
    super(
      `Invalid runs cursor "${cursor}". Pass the nextCursor of a previous page unchanged, or omit it to start over.`,
    );
  }
}

/** A store used before `open()` (or after `close()`). */
export class StoreNotOpenError extends BraidError {
  readonly code = 'store_not_open';
  constructor(readonly where: string) {
    super(
      `The store ${where} is not open. Call \`await store.open()\` before using it (the executor does it on first use).`,
    );
  }
}

/**
 * Braid's own migration files cannot be used: missing from the package, or two share a version.
 * A broken install or a bad edit of the package, never the user's database.
 */
export class MigrationFilesError extends BraidError {
  readonly code = 'migration_files';
  constructor(
    readonly store: string,
    detail: string,
  ) {
    super(
      `Braid's ${store} migrations cannot be used: ${detail}. Nothing was changed in the database; ` +
        'reinstall braid (npm install), or restore the migrations folder from the package.',
    );
  }
}

/** A migration that failed: the database is left at the version before it. */
export class StoreMigrationError extends BraidError {
  readonly code = 'store_migration_failed';
  constructor(
    readonly where: string,
    readonly migration: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Braid's migration ${migration} failed on ${where}: ${(options?.cause as Error)?.message ?? 'unknown error'}. ` +
        'The database is left at the version before it; fix the cause (permissions, disk space) and start again.',
      options,
    );
  }
}

/** A length of time Braid cannot read: `ctx.sleep('soon')`, a negative timeout, NaN. */
export class InvalidDurationError extends BraidError {
  readonly code = 'invalid_duration';
  constructor(
    readonly what: string,
    readonly value: unknown,
  ) {
    super(
      `${what} must be a duration: milliseconds (a number >= 0) or text such as "500ms", "30s", "5m", "2h", "3d", ` +
        `got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}.`,
    );
  }
}

/** A wait a step asked for that cannot be made (an event name that is empty, a match that is not JSON...). */
export class InvalidWaitError extends BraidError {
  readonly code = 'invalid_wait';
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`Step "${step}" cannot wait: ${detail}`);
  }
}

/** `provideInput` for an input no step of the run waits for now. */
export class InputNotAwaitedError extends BraidError {
  readonly code = 'input_not_awaited';
  constructor(
    readonly runId: string,
    readonly input: string,
    readonly awaited: readonly string[],
  ) {
    super(
      `Run "${runId}" is not waiting for an input named "${input}" (${awaited.length ? `it waits for ${awaited.map((a) => `"${a}"`).join(', ')}` : 'it waits for no input'}). ` +
        'Check the name, or whether it was already given.',
    );
  }
}

/** A value given for an input that does not fit the input's schema: nothing was changed. */
export class InvalidInputValueError extends BraidError {
  readonly code = 'invalid_input_value';
  constructor(
    readonly runId: string,
    readonly input: string,
    readonly issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }>,
  ) {
    super(
      `The value for input "${input}" of run "${runId}" does not match its schema: ${issues
        .map((i) => `${formatPath(i.path)}${i.message}`)
        .join('; ')}. Nothing was changed; give a value that fits.`,
    );
  }
}

/** An event Braid cannot record: an empty name, a payload that is not JSON. */
export class InvalidEventError extends BraidError {
  readonly code = 'invalid_event';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`Cannot send the event: ${detail}`, options);
  }
}

/** In a cluster: this worker lost its lease, so every run it held now belongs to other workers. */
export class LeaseLostError extends BraidError {
  readonly code = 'lease_lost';
  constructor(
    readonly workerId: string,
    readonly why: string,
  ) {
    super(`Worker ${workerId} lost its lease (${why}); the runs it held go on on other workers.`);
  }
}

/** The store refused a batch of writes; the runs it touched resume from their last committed state. */
export class StoreCommitError extends BraidError {
  readonly code = 'store_commit_failed';
  constructor(
    readonly where: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Writing to ${where} failed: ${detail}. The affected runs resume from their last committed state.`, options);
  }
}

/** The stored, JSON form of an error: what survives a restart and what the dashboard shows. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

/**
 * Turns any thrown value into its stored form, and never throws itself: user code may throw a
 * revoked Proxy, an object with no prototype and a cycle, an Error whose getters throw, a symbol,
 * a bigint or a function. Every field is read on its own, so one getter that throws costs that
 * field only, and whatever cannot be read or turned into text is described instead.
 */
export function serializeError(error: unknown, depth = 0): SerializedError {
  if (isErrorLike(error)) {
    const name = read(error, 'name');
    const message = read(error, 'message');
    const out: SerializedError = {
      name: typeof name === 'string' && name ? name : 'Error',
      message: typeof message === 'string' ? message : message === undefined ? '' : textOf(message),
    };
    const code = read(error, 'code');
    if (typeof code === 'string') out.code = code;
    const stack = read(error, 'stack');
    if (typeof stack === 'string' && stack) out.stack = stack;
    const cause = read(error, 'cause');
    if (cause !== undefined && depth < 4) out.cause = serializeError(cause, depth + 1);
    return out;
  }
  return { name: 'Error', message: typeof error === 'string' ? error : textOf(error) };
}

/** An Error of this realm or another (vm, worker); false for anything that throws when asked. */
function isErrorLike(value: unknown): value is object {
  try {
    return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
  } catch {
    return false;
  }
}

/** A property, or undefined when reading it throws (a getter, a revoked Proxy). */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** JSON when it has one, else String(), else a description that names the value's type. */
function textOf(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // A cycle, a bigint, a toJSON that throws: try String() next.
  }
  try {
    return String(value);
  } catch (failure) {
    return `[a thrown ${typeof value} that cannot be shown as text: ${read(failure as object, 'message') ?? 'unknown'}]`;
  }
}

/** Rebuilds an Error from its stored form, so callers can `instanceof Error` and read `.message`. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(readonly serialized: SerializedError) {
    super(serialized.message, serialized.cause ? { cause: new RemoteError(serialized.cause) } : undefined);
    this.name = serialized.name;
    this.code = serialized.code;
    if (serialized.stack) this.stack = serialized.stack;
  }
}

/** Why a SQLite database file could not be opened: each has its own next step. */
export type StoreOpenProblem = 'directory' | 'not_a_database' | 'cannot_open';

/** A SQLite database path that cannot be used: its directory, or the file itself. */
export class StoreOpenError extends BraidError {
  readonly code = 'store_open';
  constructor(
    readonly path: string,
    readonly problem: StoreOpenProblem,
    detail: string,
    options?: { cause?: unknown; directory?: string },
  ) {
    super(storeOpenMessage(path, problem, detail, options?.directory), options);
  }
}

function storeOpenMessage(path: string, problem: StoreOpenProblem, detail: string, directory?: string): string {
  const fix = 'Give the store (--db, BRAID_DB) another path';
  switch (problem) {
    case 'directory':
      return (
        `Cannot create the directory ${directory ?? path} for the SQLite database ${path}: ${detail}. ` +
        `${fix}, in a directory that exists or that you may create.`
      );
    case 'not_a_database':
      return (
        `${path} is not a SQLite database (${detail}). ${fix}: a Braid database file, or a file that does ` +
        'not exist yet, which is then created.'
      );
    case 'cannot_open':
      return (
        `Cannot open the SQLite database ${path}: ${detail}. It must be a file (not a directory) you may read ` +
        `and write, in a directory you may write to (SQLite keeps its -wal and -shm files beside it). ${fix}.`
      );
  }
}

/** A timer was asked for a deadline that is not a time: NaN, or not a number at all. */
export class InvalidDeadlineError extends BraidError {
  readonly code = 'invalid_deadline';
  constructor(readonly dueAt: unknown) {
    super(
      `Cannot schedule a timer for ${String(dueAt)}: a deadline must be a number of epoch milliseconds. ` +
        'It was computed from a NaN or undefined option (a backoff or timeout); check the options of the workflow and its steps.',
    );
  }
}

/** A step name Braid cannot key results by: empty, not a string, or a property every object has. */
export class InvalidStepNameError extends InvalidWorkflowError {
  override readonly code = 'invalid_step_name';
  constructor(workflow: string, name: unknown) {
    super(
      workflow,
      typeof name === 'string' && name !== '' ? name : undefined,
      typeof name !== 'string' || name === ''
        ? `a step needs a name: a non-empty string (got ${typeof name === 'string' ? '""' : String(name)}).`
        : 'this name is reserved: every JavaScript object has a property of that name, so results keyed by it ' +
            'would be lost or shadowed (nodeResults, ctx.parent). Rename the step.',
    );
  }
}

/** `fork` of a run that has not ended: its steps are still changing, so there is nothing fixed to reuse. */
export class RunNotEndedError extends BraidError {
  readonly code = 'run_not_ended';
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(
      `Run "${runId}" is ${status}: only a run that has ended (succeeded, failed, cancelled or timed out) can be ` +
        'forked. Wait for it to end, or cancel it, then fork it.',
    );
  }
}

/** `fork` from a step the run's workflow does not have. */
export class UnknownForkStepError extends BraidError {
  readonly code = 'unknown_fork_step';
  constructor(
    readonly runId: string,
    readonly workflow: string,
    readonly step: string,
    readonly steps: readonly string[],
  ) {
    super(
      `Cannot fork run "${runId}" from step "${step}": workflow "${workflow}" has no step of that name. ` +
        `Its steps are: ${steps.map((s) => `"${s}"`).join(', ')}.`,
    );
  }
}

/** `ctx.emit` was given a stream name Braid cannot key chunks by. */
export class InvalidStreamNameError extends BraidError {
  readonly code = 'invalid_stream_name';
  constructor(
    readonly step: string,
    readonly stream: unknown,
    readonly maxLength: number,
  ) {
    super(
      `Step "${step}": ${describeStreamName(stream, maxLength)}. A stream name is a string of 1 to ${maxLength} ` +
        'characters other than "*" (which readers use for every stream); call `ctx.emit(chunk)` for the \'default\' stream.',
    );
  }
}

/** `fork` given outputs for a step that is not a step of the workflow, or that the fork runs again. */
export class InvalidForkOutputsError extends BraidError {
  readonly code = 'invalid_fork_outputs';
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly reason: 'unknown_step' | 'runs_again',
    readonly from: string,
  ) {
    super(
      reason === 'unknown_step'
        ? `Cannot fork run "${runId}": \`outputs\` names step "${step}", which is not a step of its workflow. ` +
            'Fix the name, or leave it out.'
        : `Cannot fork run "${runId}" from step "${from}": \`outputs\` names step "${step}", which is "${from}" or ` +
            'downstream of it, so the fork runs it again and its output cannot be given. Give outputs only for steps ' +
            `upstream of "${from}" (or beside it), or fork from an earlier step.`,
    );
  }
}

function describeStreamName(stream: unknown, maxLength: number): string {
  if (typeof stream !== 'string') return `the stream name must be a string, got ${typeof stream}`;
  if (stream === '') return 'the stream name is empty';
  if (stream === '*') return 'the stream name "*" is reserved';
  return `the stream name "${stream.slice(0, 40)}…" is ${stream.length} characters long, over the limit of ${maxLength}`;
}

/** A step's stream (one attempt of it) would pass its bound in chunks or bytes. */
export class StreamLimitError extends BraidError {
  readonly code = 'stream_limit_exceeded';
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly stream: string,
    readonly bound: 'streamMaxChunks' | 'streamMaxBytes',
    readonly limit: number,
  ) {
    super(
      `Step "${step}" (run "${runId}"): stream "${stream}" would pass its bound of ${limit} ` +
        `${bound === 'streamMaxChunks' ? 'chunks' : 'bytes of JSON'} per attempt, so this chunk was not written. ` +
        `Emit ${bound === 'streamMaxChunks' ? 'fewer, larger chunks' : 'less'}, or raise \`${bound}\` in the ` +
        'ExecutionConfig given to the WorkflowExecutor.',
    );
  }
}

/** `fork` asked for a version of the workflow other than the one this executor has registered. */
export class ForkVersionMismatchError extends BraidError {
  readonly code = 'fork_version_mismatch';
  constructor(
    readonly runId: string,
    readonly workflow: string,
    readonly version: string,
    readonly registered: string,
  ) {
    super(
      `Cannot fork run "${runId}" as version "${version}" of workflow "${workflow}": this executor has version ` +
        `"${registered}" registered (one version per workflow and executor). Fork it from an executor that ` +
        `registers version "${version}", or leave \`version\` out to use "${registered}".`,
    );
  }
}

/** A read of a step's stream named a step the run's workflow does not have. */
export class StepNotFoundError extends BraidError {
  readonly code = 'step_not_found';
  constructor(
    readonly runId: string,
    readonly step: string,
    readonly workflow: string,
  ) {
    super(
      `Run "${runId}" (workflow "${workflow}") has no step "${step}". Check the step name: the run's steps are ` +
        `listed by GET /api/runs/${runId}.`,
    );
  }
}

/** A prune or retention setting Braid cannot use: an unknown status, a batch size of 0, a bad duration. */
export class InvalidPruneOptionError extends BraidError {
  readonly code = 'invalid_prune_option';
  constructor(
    readonly option: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(
      `\`${option}\` must be ${rule}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}. ` +
        'Fix it and try again (nothing was pruned).',
    );
  }
}

/** A schedule's cron expression croner cannot read. */
export class InvalidCronError extends BraidError {
  readonly code = 'invalid_cron';
  constructor(
    readonly schedule: string,
    readonly cron: string,
    readonly reason: string,
  ) {
    super(
      `Schedule "${schedule}": \`cron\` ${JSON.stringify(cron)} is not a valid cron expression (${reason}). ` +
        'Write 5 fields (minute hour day-of-month month day-of-week, e.g. "0 9 * * 1-5") or 6 with seconds first ' +
        '(e.g. "*/10 * * * * *"); names (MON, JAN), ranges, lists and steps are allowed.',
      { cause: reason },
    );
  }
}

/** A schedule's time zone is not an IANA time zone this Node.js knows. */
export class InvalidTimezoneError extends BraidError {
  readonly code = 'invalid_timezone';
  constructor(
    readonly schedule: string,
    readonly timezone: string,
  ) {
    super(
      `Schedule "${schedule}": \`timezone\` ${JSON.stringify(timezone)} is not an IANA time zone. Use a name such as ` +
        '"UTC", "Europe/Berlin" or "America/New_York" (`Intl.supportedValuesOf("timeZone")` lists them all).',
    );
  }
}

/** A schedule option Braid cannot use (an unknown overlap policy, a negative jitter, a bad id...). */
export class InvalidScheduleError extends BraidError {
  readonly code = 'invalid_schedule';
  constructor(
    readonly schedule: string,
    readonly option: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(
      `Schedule "${schedule}": \`${option}\` must be ${rule}, got ${JSON.stringify(value) ?? String(value)}. ` +
        'Fix it and define the schedule again (nothing was stored).',
    );
  }
}

/** No schedule has this id (it was never created, or was deleted). */
export class ScheduleNotFoundError extends BraidError {
  readonly code = 'schedule_not_found';
  constructor(readonly scheduleId: string) {
    super(
      `No schedule has the id "${scheduleId}". List the schedules (GET /api/schedules, \`braid schedules list\`) ` +
        'and check the id.',
    );
  }
}

/**
 * A schedule changed under this write: another process (or call) fired, paused or changed it first
 * (compare-and-set on its version). Nothing of the write landed; read the schedule again.
 */
export class ScheduleChangedError extends BraidError {
  readonly code = 'schedule_changed';
  constructor(
    readonly scheduleId: string,
    readonly expectedVersion: number,
  ) {
    super(
      `Schedule "${scheduleId}" changed since it was read (expected version ${expectedVersion}): another process ` +
        'or call fired or changed it first, and nothing of this write landed. Read it again and retry.',
    );
  }
}

/** A schedule already exists under this id (create refuses to replace it). */
export class ScheduleExistsError extends BraidError {
  readonly code = 'schedule_exists';
  constructor(readonly scheduleId: string) {
    super(`A schedule with the id "${scheduleId}" already exists. Delete it first, or choose another id.`);
  }
}

/** A run's priority given at start (an option, an API body, the CLI) that Braid cannot use. */
export class InvalidPriorityError extends BraidError {
  readonly code = 'invalid_priority';
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(
      `\`${field}\` must be a whole number from -100 to 100 (higher goes first, 0 is the default), got ` +
        `${typeof value === 'string' ? JSON.stringify(value) : String(value)}. Nothing was started.`,
    );
  }
}

/**
 * A start refused by a rate limit with `onLimit: 'drop'`: the run that carried it ends cancelled
 * with this error (a workflow's limit), or the step is skipped with its message (a step's limit).
 */
export class RateLimitedError extends BraidError {
  readonly code = 'rate_limited';
  constructor(
    readonly limit: string,
    readonly key: string,
    readonly nextFreeAt: number,
  ) {
    super(
      `Rate limit "${limit}"${key ? ` (key "${key}")` : ''} had no start free, and it drops what is over it ` +
        `(onLimit: 'drop'); the next start is free at ${new Date(nextFreeAt).toISOString()}. ` +
        `Use onLimit: 'queue' to wait for it instead.`,
    );
  }
}

/** A rate limit setting Braid cannot use (executor.setRateLimit, PUT /api/rate-limits/:name). */
export class InvalidRateLimitError extends BraidError {
  readonly code = 'invalid_rate_limit';
  constructor(
    readonly limitName: string,
    readonly field: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(
      `Rate limit "${limitName}": \`${field}\` must be ${rule}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}. ` +
        'Nothing was changed.',
    );
  }
}

/** A concurrency limit setting Braid cannot use (executor.setMaxRuns / setPoolSize, PUT /api/limits/...). */
export class InvalidLimitError extends BraidError {
  readonly code = 'invalid_limit';
  constructor(
    /** What the limit is of: `Workflow "x"`, `Pool "llm"`. */
    readonly target: string,
    readonly field: string,
    readonly rule: string,
    readonly value: unknown,
  ) {
    super(
      `${target}: \`${field}\` must be ${rule}, got ` +
        `${typeof value === 'string' ? JSON.stringify(value) : String(value)}. Nothing was changed.`,
    );
  }
}

/** setMaxRuns on a workflow that defines no `maxRuns`: it has no concurrency limit to change. */
export class MaxRunsNotDefinedError extends BraidError {
  readonly code = 'max_runs_not_defined';
  constructor(readonly workflow: string) {
    super(
      `Workflow "${workflow}" defines no \`maxRuns\`, so its runs are not grouped by concurrency key and there is ` +
        'no limit to change at run time. Add `maxRuns` (and `concurrencyKey` if needed) to its options first.',
    );
  }
}

/** setPoolSize on a pool that ExecutorOptions.pools does not declare. */
export class PoolNotFoundError extends BraidError {
  readonly code = 'pool_not_found';
  constructor(
    readonly pool: string,
    readonly known: readonly string[],
  ) {
    super(
      `No resource pool "${pool}" (known: ${known.length ? known.join(', ') : 'none'}). ` +
        'Declare it in `new WorkflowExecutor({ pools: { name: size } })` before changing its size.',
    );
  }
}
