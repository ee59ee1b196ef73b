import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { formatDuration } from '../../runbook/duration.js';
import { dueEscalations, dueTimeouts, roleRecipients, type DueEscalation } from '../../runbook/escalation.js';
import { dueRollbackAlerts } from '../../runbook/rollback-alerts.js';
import type { RunEvent } from '../../runbook/events.js';
import { forecastRun } from '../../runbook/forecast.js';
import type { RunService } from '../../runbook/run-service.js';
import { isFinished, type RunState } from '../../runbook/state.js';
import { renderGoNoGo } from '../render/escalation-blocks.js';
import type { Notifier } from './notifier.js';
import type { RunPolicies, RunPolicy } from './run-policy.js';
import type { AlertPager } from '../paging/alert-pager.js';
import { recordAndSend } from './send-escalation.js';
import { recordAndSendRollbackAlert } from './send-rollback-alert.js';
import { slackTime } from '../render/format.js';
import { sweepEach } from '../sweeper.js';

const clock = slackTime;

/**
 * One pass over the active runs: evaluates the escalation policy and the
 * go/no-go check, records each due escalation through the RunService (which
 * refuses a duplicate or a cleared one), and only then sends it. Recording
 * first makes delivery at-most-once per level: a crash between the two loses
 * that message rather than sending it twice; the next level still follows.
 */
export class RunSweep {
  private readonly lastSwept = new Map<string, number>();

  constructor(
    private readonly deps: {
      service: RunService;
      refs: MessageRefs;
      notifier: Notifier;
      policies: RunPolicies;
      log: Logger;
      now: () => number;
      pager?: AlertPager;
    },
  ) {}

  /** Never throws: one run's trouble is logged and the others are still swept. */
  async sweep(): Promise<void> {
    const active = await this.deps.service.activeRunIds();
    await sweepEach(active, ({ runId }) => this.sweepRun(runId), (err, { runId }) => this.deps.log.error({ err, runId }, 'escalation sweep of run failed'));
    const live = new Set(active.map((a) => a.runId));
    for (const runId of this.lastSwept.keys()) {
      if (!live.has(runId)) {
        this.lastSwept.delete(runId);
        this.deps.policies.forget(runId);
      }
    }
  }

  private async sweepRun(runId: string): Promise<void> {
    const state = await this.deps.service.load(runId);
    if (!state || isFinished(state)) return;
    const rp = await this.deps.policies.of(state);
    const now = this.deps.now();
    // The runbook's own `sweep` spaces checks of its runs; the process tick is only the finest grain.
    const last = this.lastSwept.get(runId);
    // Half a second of slack: cron ticks jitter, and a check due "just now" must not wait a whole extra tick.
    if (last !== undefined && now - last < rp.policy.sweepSeconds * 1000 - 500) return;
    this.lastSwept.set(runId, now);
    for (const due of dueEscalations(state, rp.policy, rp.contacts, now)) await this.escalate(state, due, now);
    for (const due of dueRollbackAlerts(state, rp.policy, rp.contacts, now)) await recordAndSendRollbackAlert(this.deps, state, due, now);
    await this.timeouts(state, rp, now);
    await this.goNoGo(state, rp, now);
  }

  private async escalate(state: RunState, due: DueEscalation, now: number): Promise<void> {
    await recordAndSend(this.deps, state, due, now);
  }

  /** on_timeout hold or abort: the core checks the wait again and acts as "cutover"; the thread then tells it like any hold or abort. */
  private async timeouts(state: RunState, rp: RunPolicy, now: number): Promise<void> {
    for (const t of dueTimeouts(state, rp.policy, now)) {
      const outcome = await this.deps.service.execute(state.runId, { type: 'approval.timeout', at: now, ...t });
      this.deps.log.info({ runId: state.runId, stepId: t.stepId, outcome: t.outcome, ok: outcome.ok, code: outcome.ok ? undefined : outcome.code }, 'approval timeout');
      if (outcome.ok && t.outcome === 'abort') return;
    }
  }

  /** Asks once, in the thread, when finishing and then rolling back would no longer fit in the window. */
  private async goNoGo(state: RunState, rp: RunPolicy, now: number): Promise<void> {
    const roleId = rp.policy.goNoGoRole;
    const role = roleId ? state.plan.roles[roleId] : undefined;
    if (state.goNoGo || state.status !== 'active' || !roleId || !role) return;
    const f = forecastRun(state, now);
    if (!f.mustDecide || f.windowEnd === null || f.goLiveAt === null) return;
    const rollback = f.rollbackSeconds ? ` plus the rollback (${formatDuration(f.rollbackSeconds)})` : '';
    const reason =
      `the forecast go-live is ${clock(f.goLiveAt)}${rollback}, which no longer fits before the window closes at ${clock(f.windowEnd)}. ` +
      'Continue, or start the rollback while it still fits?';
    const who = roleRecipients(state.plan, rp.contacts, roleId);
    const outcome = await this.deps.service.execute(state.runId, { type: 'go_no_go.request', at: now, role: roleId, reason, to: who });
    if (!outcome.ok) return;
    const rendered = renderGoNoGo(state, reason, role.title, who);
    const root = (await this.deps.refs.all(state.runId))['root'];
    const ts = await this.deps.notifier.post(state.channel, rendered.text, rendered.blocks, root);
    if (ts) await this.deps.refs.set(state.runId, { gonogo: ts });
    this.deps.log.info({ runId: state.runId, role: roleId }, 'go/no-go requested');
  }
}
