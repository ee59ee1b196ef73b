import type { KnownBlock } from '@slack/types';
import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { recipients, type DueEscalation } from '../../runbook/escalation.js';
import { findPlanStep } from '../../runbook/plan.js';
import { repeatsUntilAcknowledged } from '../../runbook/alert-rounds.js';
import type { RunService } from '../../runbook/run-service.js';
import type { AlertPager } from '../paging/alert-pager.js';
import type { RunState } from '../../runbook/state.js';
import { renderEscalation } from '../render/escalation-blocks.js';
import type { Notifier } from './notifier.js';

export interface EscalationSenderDeps {
  service: RunService;
  refs: MessageRefs;
  notifier: Notifier;
  log: Logger;
  /** Pages alerts that repeat until acknowledged beyond Slack (absent: Slack only). */
  pager?: AlertPager;
}

/**
 * Records one due escalation through the RunService — which refuses a
 * duplicate or one whose condition cleared — and only then sends it (thread,
 * DMs, incident channel). Recording first makes delivery at-most-once per
 * level: a crash between the two loses that message rather than repeating it,
 * and two processes racing send it once. Returns whether it was sent.
 */
export async function recordAndSend(deps: EscalationSenderDeps, state: RunState, due: DueEscalation, now: number): Promise<boolean> {
  const to = recipients(due);
  const outcome = await deps.service.execute(state.runId, {
    type: 'escalate', at: now, stepId: due.stepId, attempt: due.attempt, level: due.level, reason: due.reason, to,
    ...(due.episode !== undefined ? { episode: due.episode } : {}),
    ...(due.round !== undefined ? { round: due.round } : {}),
  });
  if (!outcome.ok) {
    deps.log.info({ runId: state.runId, stepId: due.stepId, level: due.level, episode: due.episode, code: outcome.code }, 'escalation not sent');
    return false;
  }
  const planStep = findPlanStep(state.plan, due.stepId);
  if (!planStep) return false;
  const rendered = renderEscalation(state, planStep, due);
  await postAlert(deps, state, rendered, due);
  deps.log.info({ runId: state.runId, stepId: due.stepId, attempt: due.attempt, level: due.level, episode: due.episode, round: due.round, to }, 'escalation sent');
  if (deps.pager && repeatsUntilAcknowledged(due.level)) {
    await deps.pager.raised(state, { stepId: due.stepId, level: due.level, summary: `${state.plan.title}: ${due.reason}`, ...(due.round !== undefined ? { round: due.round } : {}) });
  }
  return true;
}

/**
 * An alert as every kind is posted: in the run's thread, to the people it
 * names by DM, and to the incident channel. `broadcast` also shows the thread
 * reply in the channel (a follow-up reminder comes long after the night, when
 * nobody watches the thread). Gives the thread message's ts, null if Slack refused it.
 */
export async function postAlert(
  deps: Pick<EscalationSenderDeps, 'refs' | 'notifier'>,
  state: RunState,
  rendered: { text: string; blocks: KnownBlock[]; dmText: string; dmBlocks: KnownBlock[] },
  due: { dm: string[]; incidentChannel: string | null },
  options: { broadcast?: boolean } = {},
): Promise<{ ts: string | null }> {
  const root = (await deps.refs.all(state.runId))['root'];
  return deps.notifier.send({
    channel: state.channel,
    ...(root ? { threadTs: root, ...(options.broadcast ? { broadcast: true } : {}) } : {}),
    text: rendered.text,
    blocks: rendered.blocks,
    dm: due.dm,
    dmText: rendered.dmText,
    dmBlocks: rendered.dmBlocks,
    incidentChannel: due.incidentChannel,
  });
}
