import type { Button } from '@slack/types';
import { gateEvidence, gateLine, overrideApplies, rollbackAuthority } from '../../runbook/gate.js';
import type { PlanStep } from '../../runbook/plan.js';
import type { RunState, StepState } from '../../runbook/state.js';
import { encodeButtonValue } from '../button-value.js';
import { slackTime } from './format.js';
import { quarantineGateLines } from './quarantine-lines.js';

/** The action id of the override button; its handler only explains how to override (the reason must be typed). */
export const GATE_OVERRIDE_ACTION = 'gate.override';

/**
 * What a gated step's message says about its gate: the verdict it would be
 * approved on now (or was approved on), an override, lapsed approvals, and on
 * red/amber the override button.
 */
export function gateSection(state: RunState, planStep: PlanStep, step: StepState): { lines: string[]; button: Button | null } {
  if (planStep.gate !== 'validation') return { lines: [], button: null };
  const lines: string[] = [];
  let button: Button | null = null;
  if (step.lapsed) lines.push(`⚠️ Earlier approvals lapsed at ${slackTime(step.lapsed.at)}: ${step.lapsed.reason}. Approval is asked again.`);
  if (step.status === 'awaiting_approval' || step.status === 'held') {
    const { evidence, pending } = gateEvidence(state, planStep.id);
    lines.push(pending.length ? `Gate: ⏳ waiting for ${pending.join(', ')} to finish` : `Gate: ${gateLine(evidence)}`);
    // The report is posted just before this prompt (bot/report/gate-report.ts), or with an earlier gate on the same evidence.
    if (!pending.length && evidence.results.length > 0) lines.push('📋 The full reconciliation report is above in this thread: the Markdown file, with its JSON attached.');
    lines.push(...quarantineGateLines(state));
    const overridden = overrideApplies(step, evidence);
    if (!pending.length && evidence.verdict !== 'green' && !overridden && rollbackAuthority(state.plan)) {
      button = {
        type: 'button',
        text: { type: 'plain_text', text: 'Override (rollback authority)', emoji: true },
        action_id: GATE_OVERRIDE_ACTION,
        value: encodeButtonValue({ runId: state.runId, stepId: step.id, attempt: step.attempt }),
      };
    }
  } else {
    const basis = step.approvals.at(-1)?.evidence;
    if (basis) lines.push(`Gate: approved on ${gateLine(basis)}`);
  }
  const o = step.override;
  if (o) lines.push(`Gate overridden by <@${o.by}> at ${slackTime(o.at)} on ${o.verdict}: ${o.reason}`);
  return { lines, button };
}
