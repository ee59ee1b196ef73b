import type { Command } from './decide.js';
import { findPlanStep } from './plan.js';
import { mention, type Actor } from './policy.js';
import { defaultScenario } from './rollback.js';
import { describeApprover } from './rollback-authority.js';
import type { DestructiveKind } from './reasons.js';
import type { RunState } from './state.js';

/**
 * The commands that cannot be taken back — abort, a gate override, skip, a
 * rollback request and its cancel — need a written reason and a deliberate
 * second step before anything happens: a typed command is confirmed with a
 * button, a modal is its own confirmation. The rules live here, once, so
 * every entry point (slash command, modal, button) asks the same and says the
 * same. Pure: the bot renders and executes what this returns.
 */

/** What a person asked for, before it is confirmed: enough to build the command again when they confirm. */
export interface DestructiveRequest {
  kind: DestructiveKind;
  runId: string;
  /** override and skip: the step. */
  stepId?: string;
  /** rollback: the scenario typed, or null for the run's default. */
  scenario?: string | null;
  reason: string;
}

/** The command a confirmed request becomes. */
export function commandOf(r: DestructiveRequest, at: number, actor: Actor): Exclude<Command, { type: 'start' }> {
  const reason = r.reason.trim();
  switch (r.kind) {
    case 'abort':
      return { type: 'abort', at, actor, reason };
    case 'override':
      return { type: 'gate.override', at, actor, stepId: r.stepId ?? '', reason };
    case 'skip':
      return { type: 'skip', at, actor, stepId: r.stepId ?? '', reason };
    case 'rollback':
      return { type: 'rollback.request', at, actor, scenario: r.scenario ?? null, reason };
    case 'rollback-cancel':
      return { type: 'rollback.cancel', at, actor, reason };
  }
}

const quote = (s: string): string => `“${s.trim()}”`;

/** Exactly what confirming does to this run, in one paragraph: the text next to the Confirm button. `by`: who confirms. */
export function whatItDoes(state: RunState, r: DestructiveRequest, by: string): string {
  const run = `run \`${state.runId}\` (${state.plan.title})`;
  const step = r.stepId ? findPlanStep(state.plan, r.stepId) : undefined;
  const stepName = step ? `"${step.title}" (\`${step.id}\`)` : `\`${r.stepId ?? '?'}\``;
  switch (r.kind) {
    case 'abort': {
      const busy = Object.values(state.steps).filter((s) => s.status === 'queued' || s.status === 'running').length;
      const stopping = busy > 0 ? ` The ${busy === 1 ? 'step' : `${busy} steps`} queued or running ${busy === 1 ? 'is' : 'are'} stopped.` : '';
      return `Abort ${run} for good: no step runs after this and the run cannot be resumed.${stopping} Nothing is undone — no rollback, no unfreeze; roll back instead if the source must serve again. Reason recorded: ${quote(r.reason)}.`;
    }
    case 'override':
      return `Let the validation gate of ${stepName} be passed on its current verdict, in your name: the step can then be approved by its role, and the override is recorded in the run and the cutover report. Reason: ${quote(r.reason)}.`;
    case 'skip':
      return `Skip ${stepName} in ${run}: it will not run, it is marked skipped in your name, and the run moves on to the next step. Reason: ${quote(r.reason)}.`;
    case 'rollback': {
      const id = r.scenario ?? defaultScenario(state);
      const scenario = state.plan.rollbackScenarios.find((s) => s.id === id);
      const approver = scenario ? describeApprover(state.plan, scenario, by) : 'the rollback authority';
      const title = scenario ? `${scenario.title} (\`${id}\`)` : `\`${id}\``;
      return `Request the rollback ${title} of ${run}: the forward run pauses at once and a forward step queued or running is stopped; ${approver} is asked to approve it in the thread, and its steps run only after that. Reason: ${quote(r.reason)}.`;
    }
    case 'rollback-cancel': {
      const rb = state.rollback;
      const whose = rb ? `the ${rb.scenario} rollback requested by ${mention(rb.requestedBy)}` : 'the rollback request';
      return `Cancel ${whose}: nothing of the rollback runs, and the forward run stays paused until someone resumes it. Reason: ${quote(r.reason)}.`;
    }
  }
}

/** The label of the Confirm button: what the click does, in a few words. */
export const CONFIRM_LABEL: Record<DestructiveKind, string> = {
  abort: 'Abort the run',
  override: 'Override the gate',
  skip: 'Skip the step',
  rollback: 'Request the rollback',
  'rollback-cancel': 'Cancel the rollback request',
};
