import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { owedEffects } from '../../runbook/effects.js';
import { dueFollowUps, hasOpenFollowUps, type DueFollowUp } from '../../runbook/follow-ups.js';
import type { FollowUpIndex } from '../../runbook/ports.js';
import type { RunService } from '../../runbook/run-service.js';
import type { RunState } from '../../runbook/state.js';
import type { Notifier } from '../escalation/notifier.js';
import type { RunPolicies } from '../escalation/run-policy.js';
import { renderFollowUpReminder } from '../render/follow-up-blocks.js';
import { sweepEach } from '../sweeper.js';
import { postAlert } from '../escalation/send-escalation.js';

/** The message-refs fields of a follow-up's reminders start so; reminder `seq` is `<prefix><seq>` (redrawn after a click). */
export const followUpRefPrefix = (followUpId: string): string => `followup:${followUpId}:`;
export const followUpRef = (followUpId: string, seq: number): string => `${followUpRefPrefix(followUpId)}${seq}`;

/**
 * One pass over the completed runs with open follow-ups (the FollowUpIndex):
 * each reminder or escalation owed is recorded on the run's stream through the
 * RunService (which refuses one no longer owed: a second sweep, a Done landing
 * meanwhile), and only then sent — at most once, as for approvals. Runs are
 * read from Redis on every pass, so a restart of web loses nothing. Runs
 * inside `web`'s sweeper, under its Redis lease.
 */
export class FollowUpSweep {
  constructor(
    private readonly deps: {
      service: RunService;
      index: FollowUpIndex;
      refs: MessageRefs;
      notifier: Notifier;
      policies: RunPolicies;
      log: Logger;
      now: () => number;
    },
  ) {}

  /** Never throws: one run's trouble is logged and the others are still swept. */
  async sweep(): Promise<void> {
    await sweepEach(await this.deps.index.list(), (runId) => this.sweepRun(runId), (err, runId) => this.deps.log.error({ err, runId }, 'follow-up sweep of run failed'));
  }

  private async sweepRun(runId: string): Promise<void> {
    const state = await this.deps.service.load(runId);
    if (!state || !hasOpenFollowUps(state)) {
      // A completed run's unlisting is one of its owed effects (a crash cut it short); anything else was never listed by a decision.
      if (state?.status === 'completed') await this.deps.service.applyEffects(owedEffects(state));
      else await this.deps.index.remove(runId);
      this.deps.policies.forget(runId);
      this.deps.log.info({ runId }, 'follow-ups of run all done');
      return;
    }
    const { policy, contacts } = await this.deps.policies.of(state);
    const now = this.deps.now();
    for (const due of dueFollowUps(state, policy, contacts, now)) await this.remind(state, due, now);
  }

  private async remind(state: RunState, due: DueFollowUp, now: number): Promise<void> {
    const to = [...new Set([...due.mention, ...due.dm])];
    const outcome = await this.deps.service.execute(state.runId, { type: 'follow_up.remind', at: now, followUpId: due.followUpId, level: due.level, reason: due.reason, to });
    if (!outcome.ok) {
      this.deps.log.info({ runId: state.runId, followUp: due.followUpId, code: outcome.code }, 'follow-up reminder not sent');
      return;
    }
    // Its number as recorded (the decision was taken on the latest stream, not on the state evaluated above).
    const seq = outcome.state.followUps?.[due.followUpId]?.reminders.length ?? due.seq;
    const rendered = renderFollowUpReminder(outcome.state, due.followUpId, seq, now);
    if (!rendered) return;
    const { ts } = await postAlert(this.deps, state, rendered, due, { broadcast: true });
    if (ts) await this.deps.refs.set(state.runId, { [followUpRef(due.followUpId, seq)]: ts });
    this.deps.log.info({ runId: state.runId, followUp: due.followUpId, level: due.level, seq, to }, 'follow-up reminder sent');
  }
}
