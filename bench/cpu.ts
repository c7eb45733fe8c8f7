/** This process's CPU time so far, user and system, every thread: µs. */
export function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}
