import type { KnownBlock } from '@slack/types';
import { decide } from '../../runbook/decide.js';
import { commandOf, type DestructiveRequest } from '../../runbook/destructive.js';
import { reasonProblem, type DestructiveKind } from '../../runbook/reasons.js';
import type { Outcome } from '../../runbook/run-service.js';
import type { BotDeps } from '../deps.js';
import { renderConfirmation } from './confirm-blocks.js';

/** A typed confirmation older than this is refused at the click: the run may have moved on since. */
export const CONFIRM_TTL_MS = 10 * 60_000;

export type Confirmation = { ok: false; message: string } | { ok: true; text: string; blocks: KnownBlock[] };

type Deps = Pick<BotDeps, 'service' | 'actors' | 'publisher' | 'now'>;

/**
 * The typed path, first step: refuses at once what would be refused anyway —
 * no reason (with the usage), not permitted, a step that cannot be skipped now
 * — else returns the confirmation to show the person. The run is untouched
 * either way; nothing is recorded until the Confirm click.
 */
export async function confirmationFor(deps: Deps, request: DestructiveRequest, user: string): Promise<Confirmation> {
  const unexplained = reasonProblem(request.kind, request.reason);
  if (unexplained) return { ok: false, message: unexplained };
  const state = await deps.service.load(request.runId);
  if (!state) return { ok: false, message: `Run ${request.runId} no longer exists.` };
  const at = deps.now();
  const preview = decide(state, commandOf(request, at, await deps.actors.resolve(user, state.plan)));
  if (!preview.ok) return { ok: false, message: preview.message };
  return { ok: true, ...renderConfirmation(state, request, user, at) };
}

/**
 * The one way a destructive request takes effect: a typed command once its
 * Confirm button is clicked, or a modal's submission (the modal is its own
 * confirmation). The core decides again on the run as it is now, so a click
 * on a confirmation the run has outgrown is refused with the reason.
 */
export async function performDestructive(deps: Deps, request: DestructiveRequest, user: string): Promise<Outcome> {
  const unexplained = reasonProblem(request.kind, request.reason);
  if (unexplained) return { ok: false, code: 'reason.required', message: unexplained, state: null };
  const state = await deps.service.load(request.runId);
  if (!state) return { ok: false, code: 'run.not_found', message: `Run ${request.runId} no longer exists.`, state: null };
  const outcome = await deps.service.execute(request.runId, commandOf(request, deps.now(), await deps.actors.resolve(user, state.plan)));
  if (outcome.ok) await deps.publisher.request(request.runId);
  return outcome;
}

/** What the person is told once it is done (the thread has the story for everyone). */
export const DONE: Record<DestructiveKind, string> = {
  abort: '🛑 Done: the run is aborted. The thread says who, when and why.',
  override: '✅ Done: the gate is overridden in your name; the step can now be approved by its role.',
  skip: '⏭️ Done: the step is skipped; the run moves on.',
  rollback: '↩️ Done: the rollback is requested and the forward run is paused. Its approver is asked in the thread.',
  'rollback-cancel': '↩️ Done: the rollback request is cancelled; the forward run stays paused until someone resumes it.',
};
