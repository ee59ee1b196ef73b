import type { Logger } from 'pino';
import { dueHealthNotices } from '../../runbook/health-notices.js';
import { isFinished, type RunState } from '../../runbook/state.js';
import type { RunPolicies } from './run-policy.js';
import { recordAndSend, type EscalationSenderDeps } from './send-escalation.js';

/**
 * Sends the health alerts and "cleared" notices of a run as soon as a render
 * shows them due, rather than on the next escalation sweep: a blocked load is
 * worth seconds, and a run that ends with its blocked step still owes the
 * "cleared" notice (the sweep only visits active runs). Every web process may
 * call it; recording first through the RunService makes each notice go out
 * once. Never throws.
 */
export class HealthNotices {
  constructor(private readonly deps: EscalationSenderDeps & { policies: RunPolicies; log: Logger; now: () => number }) {}

  async afterRender(state: RunState): Promise<void> {
    // Most renders owe nothing: decide that from the state alone before touching the runbook or Redis.
    if (!Object.values(state.steps).some((s) => s.health?.episodes.length)) return;
    try {
      const { policy, contacts } = await this.deps.policies.of(state);
      for (const due of dueHealthNotices(state, policy, contacts)) await recordAndSend(this.deps, state, due, this.deps.now());
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId }, 'health notice failed');
    } finally {
      // The sweep forgets the policies of runs that left the active set; a finished run is rendered here last.
      if (isFinished(state)) this.deps.policies.forget(state.runId);
    }
  }
}
