import type { RunUpdateFeed } from '../../config/backend.js';
import { CutoverError } from '../../runbook/errors.js';
import type { Runbook } from '../../runbook/load.js';
import type { Actor } from '../../runbook/policy.js';
import type { RunService } from '../../runbook/run-service.js';
import type { RunState } from '../../runbook/state.js';
import { nextMove, type MoveOptions } from './next-move.js';
import type { ProgressView } from './progress-view.js';

interface HeadlessRun {
  runId: string;
  runbook: Runbook;
  text: string;
  /** Who starts the run (and aborts it when the rehearsal stops early). */
  starter: Actor;
  /** Who may abort: a member of permissions.abort, else the starter. */
  aborter: Actor;
  moves: MoveOptions;
  /** Ctrl-C: the run is aborted (its running step told to stop) and the outcome is `interrupted`. */
  interrupt: AbortSignal;
}

export type HeadlessOutcome =
  | { kind: 'completed'; state: RunState }
  | { kind: 'until'; state: RunState }
  | { kind: 'stopped'; state: RunState; reason: string }
  | { kind: 'interrupted'; state: RunState }
  /** The run never started (another run of the runbook is active, the starter may not start it…). */
  | { kind: 'refused'; reason: string };

/** A lost run-changed notice (Redis pub/sub is lossy) costs at most this long: the run is looked at again. */
const RECHECK_MS = 1000;

/**
 * Drives one run through the same RunService the bot uses: starts it, and
 * approves each step as members of its role, so every guard of the core
 * (roles, N-of-M, separation of duties, the gate, required backups) decides
 * as it would in Slack. The engine runs the steps on the worker. Never throws
 * for a refusal: it ends the run and says why.
 */
export async function driveRun(run: HeadlessRun, deps: { service: RunService; updates: RunUpdateFeed; view: ProgressView; now: () => number }): Promise<HeadlessOutcome> {
  const { service } = deps;
  let wake: () => void = () => {};
  const unsubscribe = await deps.updates.subscribe((id) => id === run.runId && wake());
  const onInterrupt = () => wake();
  run.interrupt.addEventListener('abort', onInterrupt);
  try {
    const started = await service.start({
      type: 'start',
      at: deps.now(),
      actor: run.starter,
      runId: run.runId,
      channel: 'headless',
      dryRun: false,
      plan: run.runbook.plan,
      runbookFile: run.runbook.file,
      runbookText: run.text,
    });
    if (!started.ok) return { kind: 'refused', reason: started.message };
    for (;;) {
      const state = await service.load(run.runId);
      if (!state) return { kind: 'refused', reason: `run ${run.runId} vanished from the state backend` };
      deps.view.update(state);
      if (run.interrupt.aborted) return { kind: 'interrupted', state: await end(run, deps, 'the rehearsal was interrupted (Ctrl-C)') };
      const move = nextMove(state, run.moves);
      if (move.kind === 'finished') return { kind: 'completed', state };
      if (move.kind === 'until') return { kind: 'until', state: await end(run, deps, `rehearsed up to ${move.stepId} (--until)`) };
      if (move.kind === 'stop') return { kind: 'stopped', state: await end(run, deps, `rehearsal stopped: ${move.reason}`), reason: move.reason };
      if (move.kind === 'approve') {
        const refused = await approve(run, service, move.stepId, move.attempt, move.actors, deps.now);
        if (refused) return { kind: 'stopped', state: await end(run, deps, `rehearsal stopped: ${refused}`), reason: refused };
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    run.interrupt.removeEventListener('abort', onInterrupt);
    await unsubscribe();
  }
}

/** Each approver clicks Approve; the first refusal (the gate, a missing backup…) is the answer. */
async function approve(run: HeadlessRun, service: RunService, stepId: string, attempt: number, actors: Actor[], now: () => number): Promise<string | null> {
  for (const actor of actors) {
    const outcome = await service.execute(run.runId, { type: 'approve', at: now(), actor, stepId, attempt });
    // Someone else (a person in Slack, on a shared Redis) may have approved or moved the step meanwhile: look again.
    if (!outcome.ok && ['approval.duplicate', 'step.not_waiting', 'step.stale_attempt'].includes(outcome.code)) return null;
    if (!outcome.ok) return `${stepId} was refused to ${actor.id}: ${outcome.message}`;
  }
  return null;
}

/** Aborts a run that will not go on (a running step is told to stop), so its runbook's slot is free again. */
async function end(run: HeadlessRun, deps: { service: RunService; now: () => number }, reason: string): Promise<RunState> {
  await deps.service.execute(run.runId, { type: 'abort', at: deps.now(), actor: run.aborter, reason });
  const state = await deps.service.load(run.runId);
  if (!state) throw new CutoverError('rehearse.run_missing', `run ${run.runId} vanished from the state backend while it was being ended`);
  return state;
}
