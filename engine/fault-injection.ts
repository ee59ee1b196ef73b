import { writeSync } from 'node:fs';

/**
 * Test-only fault injection (docs/testing.md): with NODE_ENV=test and
 * CUTOVER_TEST_KILL_AT=<stepId>@<instant>[,…] the worker SIGKILLs itself when
 * it reaches that instant of that step, so a test can crash a real worker at
 * an exact point instead of racing a timer. Both variables are needed, so a
 * production environment that sets one by mistake is unaffected.
 */
export type FaultInstant =
  /** The step reported started; its action has not run. */
  | 'before-effect'
  /** Inside the effect: the ledger row (or a chunk) is written, the transaction not committed; a shell command is running. */
  | 'in-effect'
  /** The action returned (its transaction committed); the success event is not appended. */
  | 'after-commit'
  /** The success event is appended; the job is not yet completed in BullMQ. */
  | 'after-append';

const targets: ReadonlySet<string> = new Set(
  process.env.NODE_ENV === 'test' ? (process.env.CUTOVER_TEST_KILL_AT ?? '').split(',').map((s) => s.trim()).filter(Boolean) : [],
);

/**
 * Dies here (SIGKILL, no cleanup) when the test asked for this instant of this
 * step; otherwise does nothing. `alsoKill` names process groups that die with
 * the worker, as everything in a container or a systemd unit's cgroup does
 * (a command the worker started runs in a group of its own).
 */
export function faultPoint(instant: FaultInstant, stepId: string, alsoKill: readonly number[] = []): void {
  if (targets.size === 0 || !targets.has(`${stepId}@${instant}`)) return;
  writeSync(2, `fault injection: SIGKILL at ${instant} of step ${stepId}\n`);
  for (const group of alsoKill) process.kill(-group, 'SIGKILL');
  process.kill(process.pid, 'SIGKILL');
}
