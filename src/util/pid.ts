/**
 * Whether a process of this machine is still running: signal 0 reaches it. EPERM means it runs
 * under another user, so it is alive too; only ESRCH (no such process) means it is gone.
 */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
