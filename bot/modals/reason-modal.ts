import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { whatItDoes } from '../../runbook/destructive.js';
import { findPlanStep } from '../../runbook/plan.js';
import { REASON_MAX_CHARS, reasonProblem } from '../../runbook/reasons.js';
import { defaultScenario } from '../../runbook/rollback.js';
import type { RunState } from '../../runbook/state.js';
import { clip } from '../render/format.js';
import { encodeMetadata, REASON_CALLBACK, type ModalMetadata, type ReasonKind } from './modal-metadata.js';
import { selectedValue, textValue, type StateValues } from './modal-values.js';

export const REASON_BLOCK = 'reason';
export const SCENARIO_BLOCK = 'scenario';
const REASON_ACTION = 'reason';
const SCENARIO_ACTION = 'scenario';

/** A modal is answered after this long only with "open it again": the run may have moved on meanwhile (as the typed confirmation). */
export const MODAL_TTL_MS = 10 * 60_000;

/** Slack's limit for modal titles and buttons is 24 characters. */
const TITLE: Record<ReasonKind, string> = {
  abort: 'Abort the run',
  override: 'Override the gate',
  skip: 'Skip a step',
  hold: 'Hold a step',
  rollback: 'Request a rollback',
  'rollback-cancel': 'Cancel the rollback',
};
const SUBMIT: Record<ReasonKind, string> = {
  abort: 'Abort the run',
  override: 'Override',
  skip: 'Skip the step',
  hold: 'Hold the step',
  rollback: 'Request rollback',
  'rollback-cancel': 'Cancel the request',
};

/** The modal asking for a reason (and, for a rollback, the scenario): what submitting does, then the fields. */
export function reasonModal(state: RunState, meta: ModalMetadata & { kind: ReasonKind }): ModalView {
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(explain(state, meta), 3000) } }];
  if (meta.kind === 'rollback' && state.plan.rollbackScenarios.length > 0) {
    const options: PlainTextOption[] = state.plan.rollbackScenarios.slice(0, 100).map((s) => ({ text: { type: 'plain_text', text: clip(`${s.title} (${s.id})`, 75) }, value: s.id }));
    const initial = options.find((o) => o.value === defaultScenario(state));
    blocks.push({
      type: 'input',
      block_id: SCENARIO_BLOCK,
      label: { type: 'plain_text', text: 'Scenario' },
      hint: { type: 'plain_text', text: `The default now is ${defaultScenario(state)}: before the go-live switch pre-go-live, after it post-go-live.` },
      element: { type: 'static_select', action_id: SCENARIO_ACTION, options, ...(initial ? { initial_option: initial } : {}) },
    });
  }
  blocks.push(
    {
      type: 'input',
      block_id: REASON_BLOCK,
      label: { type: 'plain_text', text: 'Reason (recorded in the thread and the report)' },
      hint: { type: 'plain_text', text: `A sentence and a ticket number will do; at most ${REASON_MAX_CHARS} characters.` },
      element: { type: 'plain_text_input', action_id: REASON_ACTION, multiline: true, max_length: REASON_MAX_CHARS, placeholder: { type: 'plain_text', text: 'Why, in a sentence' } },
    },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Nothing happens before you submit. The core checks again on the run as it is then; this form expires after 10 minutes.' }] },
  );
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK,
    private_metadata: encodeMetadata(meta),
    title: { type: 'plain_text', text: TITLE[meta.kind] },
    submit: { type: 'plain_text', text: SUBMIT[meta.kind] },
    close: { type: 'plain_text', text: 'Go back' },
    blocks,
  };
}

/** What submitting does, as the typed confirmation says it, without the reason (it is asked below). */
function explain(state: RunState, meta: ModalMetadata & { kind: ReasonKind }): string {
  if (meta.kind === 'hold') {
    const step = meta.stepId ? findPlanStep(state.plan, meta.stepId) : undefined;
    return `Hold "${step?.title ?? meta.stepId ?? '?'}" (\`${meta.stepId ?? '?'}\`) in run \`${state.runId}\`: it cannot be approved until someone releases the hold. The thread says who and why.`;
  }
  const what = whatItDoes(state, { kind: meta.kind, runId: state.runId, reason: '…', ...(meta.stepId ? { stepId: meta.stepId } : {}), ...(meta.kind === 'rollback' ? { scenario: null } : {}) }, meta.user);
  const cut = what.lastIndexOf(' Reason');
  return cut > 0 ? what.slice(0, cut) : what;
}

type ReasonAnswer = { ok: true; reason: string; scenario: string | null } | { ok: false; errors: Record<string, string> };

/** The submitted fields, checked: each problem is said under its own field. */
export function readReason(kind: ReasonKind, values: StateValues): ReasonAnswer {
  const reason = textValue(values, REASON_BLOCK, REASON_ACTION) ?? '';
  const scenario = selectedValue(values, SCENARIO_BLOCK, SCENARIO_ACTION);
  // Hold is not destructive, yet its reason is bounded and required the same way.
  const problem = reasonProblem(kind === 'hold' ? 'abort' : kind, reason);
  if (problem) {
    const short = reason.trim() === '' ? 'Write why: it is recorded in the thread and the report.' : `That is ${reason.trim().length} characters; keep it to ${REASON_MAX_CHARS} and link a ticket for the details.`;
    return { ok: false, errors: { [REASON_BLOCK]: short } };
  }
  return { ok: true, reason: reason.trim(), scenario };
}
