import { type ChildProcess, spawn } from 'node:child_process';
import { type ExecutorOptions, PostgresStore, WorkflowExecutor } from '../../src/index.js';
import { nodeArgs } from './compiled.js';
/**
 * The shared frame of the worker processes that crash tests start and SIGKILL: the test passes a
 * JSON config as the first argument, a worker says `ready <worker id>` on stdout once it is in the
 * cluster, and any unexpected failure ends the process with a non-zero status the test sees.
 */

/** Runs `main` with the config the test passed; an error or an unhandled rejection exits 1. */
export function runWorkerProcess<Config>(main: (config: Config) => Promise<void>): void {
  process.on('unhandledRejection', (error) => {
    console.error('unhandled rejection:', error);
    process.exit(1);
  });
  main(JSON.parse(process.argv[2] ?? '{}') as Config).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

/** What each worker process is given: its database and its lease timings. */
export interface PostgresWorkerConfig {
  url: string;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  /** Load the code, then wait for `go` on stdin before joining the cluster. */
  standby?: boolean;
}

/**
 * Joins the cluster as a worker running `options.workflows` (a standby first waits for `go`), then
 * says `ready <worker id>` on stdout. A small pool: several of these share the test server.
 */
export async function serveAsWorker(
  config: PostgresWorkerConfig,
  applicationName: string,
  options: Omit<ExecutorOptions, 'store' | 'worker'>,
): Promise<WorkflowExecutor> {
  const executor = new WorkflowExecutor({
    ...options,
    store: new PostgresStore({ connectionString: config.url, poolSize: 4, applicationName }),
    worker: { leaseMs: config.leaseMs, heartbeatMs: config.heartbeatMs, pollMs: config.pollMs, log: logToStderr },
  });
  if (config.standby) await untilGo();
  await executor.open();
  process.stdout.write(`ready ${executor.workerId}\n`);
  return executor;
}

/** A standby worker: resolves once the test writes `go` on its stdin. */
export async function untilGo(): Promise<void> {
  await new Promise<void>((resolve) => {
    let input = '';
    process.stdin.on('data', (d: Buffer) => {
      input += d.toString();
      if (input.includes('go')) resolve();
    });
  });
  process.stdin.pause();
}

/** Worker log lines go to stderr, where the test collects them when a run goes wrong. */
export const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The test's side of a worker process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the worker id once it has joined the cluster (rejects if it exits first). */
  ready: Promise<string>;
  exited: Promise<number | NodeJS.Signals>;
  stderr: () => string;
  /** Tells a standby to join the cluster now. */
  activate(): void;
}

/** Starts `script` (run with `runWorkerProcess`) with `config`: node on its compiled twin, no shell. */
export function startWorkerProcess(script: string, config: unknown): WorkerProcess {
  const child = spawn(process.execPath, [...nodeArgs(script), JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-16_384);
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.on('exit', () => reject(new Error(`worker exited before it was ready: ${err}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited, stderr: () => err, activate: () => child.stdin?.write('go\n') };
}
