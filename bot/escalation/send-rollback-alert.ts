import type { DueRollbackAlert } from '../../runbook/rollback-alerts.js';
import type { RunState } from '../../runbook/state.js';
import { renderRollbackAlert } from '../render/rollback-alert-blocks.js';
import { postAlert, type EscalationSenderDeps } from './send-escalation.js';

/**
 * Records one alert about the rollback itself (rollback.escalated: the core
 * refuses a duplicate round, a repeat of an acknowledged alert, one whose
 * request is gone or approved) and only then sends it — thread, DMs, incident
 * channel — and pages it beyond Slack unless it is a reminder. Returns whether
 * it was sent.
 */
export async function recordAndSendRollbackAlert(deps: EscalationSenderDeps, state: RunState, due: DueRollbackAlert, now: number): Promise<boolean> {
  const to = [...new Set([...due.mention, ...due.dm])];
  const outcome = await deps.service.execute(state.runId, {
    type: 'rollback.escalate', at: now, requestedAt: due.requestedAt, level: due.level, reason: due.reason, to,
    ...(due.round !== undefined ? { round: due.round } : {}),
  });
  if (!outcome.ok) {
    deps.log.info({ runId: state.runId, level: due.level, round: due.round, code: outcome.code }, 'rollback alert not sent');
    return false;
  }
  const rendered = renderRollbackAlert(state, due);
  await postAlert(deps, state, rendered, due);
  deps.log.info({ runId: state.runId, level: due.level, round: due.round, to }, 'rollback alert sent');
  if (deps.pager && due.level !== 'reminder') {
    await deps.pager.raised(state, { stepId: null, level: due.level, summary: `${state.plan.title}: ${due.reason}`, ...(due.round !== undefined ? { round: due.round } : {}) });
  }
  return true;
}
