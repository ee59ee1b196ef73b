import { stepJobId } from '../../runbook/ports.js';

/**
 * Which step attempt an effect belongs to. `jobId` is the deterministic job
 * id (`run__step__attempt`), the ledger row's primary key; (runId, stepId) is
 * unique too, so no attempt of a step commits after another one did.
 */
export interface EffectKey {
  jobId: string;
  runId: string;
  stepId: string;
  attempt: number;
}

export const effectKeyOf = (runId: string, stepId: string, attempt: number): EffectKey => ({ jobId: stepJobId(runId, stepId, attempt), runId, stepId, attempt });
