import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import { rollbackResolveOwed, stepResolveOwed } from '../../runbook/decide-alerts.js';
import type { EscalationLevel } from '../../runbook/events.js';
import { findPlanStep } from '../../runbook/plan.js';
import type { RunService } from '../../runbook/run-service.js';
import type { RunState } from '../../runbook/state.js';
import type { Notifier } from '../escalation/notifier.js';
import type { RunPolicies } from '../escalation/run-policy.js';
import { dedupKeyOf, severityOf, type PageEvent, type PageResult, type Pager } from './page-event.js';

export interface AlertPagerDeps {
  pager: Pager;
  policies: RunPolicies;
  service: RunService;
  refs: MessageRefs;
  notifier: Notifier;
  log: Logger;
  now: () => number;
}

/** An alert as the pagers see it: about a step (its attempt's alerts are one incident) or about the rollback itself. */
export interface PagedAlert {
  stepId: string | null;
  level: EscalationLevel;
  summary: string;
  round?: number;
}

/**
 * Paging beyond Slack for the runbook's `escalation.page` targets: a trigger
 * for each round of an alert that repeats until acknowledged (PagerDuty keeps
 * one incident per dedup_key, so a repeat only adds to it, and a round that
 * failed to reach it is made good by the next), acknowledge when a person
 * presses Acknowledge, resolve once the alert's condition cleared. A target
 * that does not take a page is said in the run's thread, so nobody trusts a
 * pager that is down. Every method never throws.
 */
export class AlertPager {
  constructor(private readonly deps: AlertPagerDeps) {}

  async raised(state: RunState, alert: PagedAlert): Promise<void> {
    await this.page(state, { ...this.base(state, alert.stepId, alert.level), action: 'trigger', summary: alert.summary, severity: severityOf(alert.level), ...(alert.round ? { round: alert.round } : {}) });
  }

  async acknowledged(state: RunState, alert: { stepId: string | null; level: EscalationLevel; by: string }): Promise<void> {
    await this.page(state, { ...this.base(state, alert.stepId, alert.level), action: 'acknowledge', summary: `acknowledged by ${alert.by}`, severity: 'info', by: alert.by });
  }

  /** Records, then sends, the resolve owed for alerts whose condition cleared (a retry, an approval, the run's end). */
  async afterRender(state: RunState): Promise<void> {
    try {
      const { policy } = await this.deps.policies.of(state);
      if (policy.page.length === 0) return;
      for (const step of Object.values(state.steps)) {
        if (!stepResolveOwed(state, step)) continue;
        const recorded = await this.deps.service.execute(state.runId, { type: 'alert.resolve', at: this.deps.now(), stepId: step.id });
        if (recorded.ok) await this.page(state, { ...this.base(state, step.id, null), action: 'resolve', summary: `"${findPlanStep(state.plan, step.id)?.title ?? step.id}" is ${step.status.replace('_', ' ')}`, severity: 'info' });
      }
      const alerts = state.rollbackAlerts;
      if (alerts && rollbackResolveOwed(state)) {
        const recorded = await this.deps.service.execute(state.runId, { type: 'alert.resolve', at: this.deps.now(), requestedAt: alerts.requestedAt });
        if (recorded.ok) await this.page(state, { ...this.base(state, null, null), action: 'resolve', summary: `the rollback is ${state.rollback?.status ?? 'no longer requested'}`, severity: 'info' });
      }
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId }, 'pager resolve failed');
    }
  }

  private base(state: RunState, stepId: string | null, level: EscalationLevel | null): Pick<PageEvent, 'dedupKey' | 'runId' | 'runbook' | 'stepId' | 'level' | 'at'> {
    return { dedupKey: dedupKeyOf(state.runId, stepId), runId: state.runId, runbook: state.plan.runbook, stepId, level, at: this.deps.now() };
  }

  private async page(state: RunState, event: PageEvent): Promise<void> {
    try {
      const { policy } = await this.deps.policies.of(state);
      if (policy.page.length === 0) return;
      const results = await this.deps.pager.send(policy.page, event);
      const failed = results.filter((r) => !r.ok);
      if (failed.length > 0) await this.tellThread(state, event, failed);
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId, action: event.action }, 'paging failed');
    }
  }

  private async tellThread(state: RunState, event: PageEvent, failed: PageResult[]): Promise<void> {
    const root = (await this.deps.refs.all(state.runId))['root'];
    const what = failed.map((f) => `${f.target === 'pagerduty' ? 'PagerDuty' : 'the paging webhook'}: ${f.detail}`).join('; ');
    const next = event.action === 'trigger' ? 'Slack was paged as usual; the page is sent again with its next repeat until someone acknowledges it.' : 'Slack shows the current state; close the incident in the pager by hand if it stays open.';
    await this.deps.notifier.post(state.channel, `⚠️ Paging beyond Slack failed (${event.action} of ${event.stepId ? `step \`${event.stepId}\`` : 'the rollback'}): ${what}. ${next}`, undefined, root);
  }
}
