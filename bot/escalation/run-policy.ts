import type { Logger } from 'pino';
import type { RunbookFiles } from '../../config/runbook-files.js';
import { contactsOf, policyOf, type Contact, type EscalationPolicy } from '../../runbook/escalation.js';
import { loadRunbook } from '../../runbook/load.js';
import { escalationSchema, type RunbookDoc } from '../../runbook/schema.js';
import type { RunState } from '../../runbook/state.js';

export interface RunPolicy {
  policy: EscalationPolicy;
  contacts: Contact[];
}

export const runPolicyOf = (doc: RunbookDoc): RunPolicy => ({ policy: policyOf(doc.escalation, Object.keys(doc.roles)), contacts: contactsOf(doc) });

/**
 * The escalation policy and contacts a run goes by: those of the runbook text
 * pinned in the run at start (an edit of the file mid-night does not change
 * who is paged), else the current file, else the defaults. Cached per run.
 */
export class RunPolicies {
  private readonly cache = new Map<string, RunPolicy>();

  constructor(
    private readonly deps: { runbooks: RunbookFiles; env: Readonly<Record<string, string | undefined>>; log: Logger },
  ) {}

  async of(state: RunState): Promise<RunPolicy> {
    const hit = this.cache.get(state.runId);
    if (hit) return hit;
    const pinned = loadRunbook({ name: state.plan.runbook, file: state.runbookFile, text: state.runbookText, env: this.deps.env });
    let found: RunPolicy | null = pinned.ok ? runPolicyOf(pinned.runbook.doc) : null;
    if (!found) {
      const current = await this.deps.runbooks.get(state.plan.runbook).catch(() => null);
      found = current?.result.ok ? runPolicyOf(current.result.runbook.doc) : null;
    }
    if (!found) {
      this.deps.log.warn({ runId: state.runId }, 'runbook of run no longer loads; escalating with the default policy and no contacts');
      found = { policy: policyOf(escalationSchema.parse(undefined), Object.keys(state.plan.roles)), contacts: [] };
    }
    this.cache.set(state.runId, found);
    return found;
  }

  forget(runId: string): void {
    this.cache.delete(runId);
  }
}
