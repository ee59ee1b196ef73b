/**
 * Exit codes of every `cutover` command (docs/cli.md lists them): CI tells
 * "the answer is no" (1) from "could not answer" (3) and "called wrongly" (2).
 */
export const EXIT = {
  /** Done, and the answer is yes: no problems, the rehearsal completed green, the plan fits. */
  ok: 0,
  /** Done, and the answer is no: lint found problems, the rehearsal is not green, the plan does not fit the window. */
  findings: 1,
  /** Unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** Could not do the work: an unreadable input, an unreachable database, a runbook that does not load, an output that exists. */
  failed: 3,
  /** Ctrl-C (SIGINT) or SIGTERM: a rehearsal was aborted and its report written. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
