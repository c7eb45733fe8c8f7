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
