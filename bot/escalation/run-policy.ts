import type { Logger } from 'pino';
import type { RunbookFiles, RunbookParser } from '../../config/runbook-files.js';
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
  /** Promises, so concurrent sweeps and renders of one run parse its runbook once. */
  private readonly cache = new Map<string, Promise<RunPolicy>>();

  constructor(
    private readonly deps: {
      runbooks: RunbookFiles;
      env: Readonly<Record<string, string | undefined>>;
      log: Logger;
      /** web parses on its heavy-work thread: a 3,000-step runbook takes over a second to parse (issue 14). */
      parse?: RunbookParser;
    },
  ) {}

  of(state: RunState): Promise<RunPolicy> {
    const hit = this.cache.get(state.runId);
    if (hit) return hit;
    const found = this.find(state);
    this.cache.set(state.runId, found);
    // A failure is not cached: the next call tries again.
    found.catch(() => this.cache.delete(state.runId));
    return found;
  }

  private async find(state: RunState): Promise<RunPolicy> {
    const input = { name: state.plan.runbook, file: state.runbookFile, text: state.runbookText, env: this.deps.env };
    const pinned = this.deps.parse ? await this.deps.parse(input) : loadRunbook(input);
    let found: RunPolicy | null = pinned.ok ? runPolicyOf(pinned.runbook.doc) : null;
    if (!found) {
      const current = await this.deps.runbooks.get(state.plan.runbook).catch(() => null);
      found = current?.result.ok ? runPolicyOf(current.result.runbook.doc) : null;
    }
    if (!found) {
      this.deps.log.warn({ runId: state.runId }, 'runbook of run no longer loads; escalating with the default policy and no contacts');
      found = { policy: policyOf(escalationSchema.parse(undefined), Object.keys(state.plan.roles)), contacts: [] };
    }
    return found;
  }

  forget(runId: string): void {
    this.cache.delete(runId);
  }
}
