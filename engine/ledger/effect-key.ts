import { z } from 'zod';
import { ActionError, type ActionResult } from '../action.js';
import type { EffectKey } from './effect-id.js';

export { type EffectKey, effectKeyOf } from './effect-id.js';

/** A committed effect as its ledger row holds it. */
export interface LedgerEntry {
  jobId: string;
  attempt: number;
  /**
   * When the transaction recorded its result, just before COMMIT. Null (and
   * result null) when the row committed without its result: the step's own
   * SQL ended the transaction early (a COMMIT in the text), so how much of
   * it took effect is unknown.
   */
  finishedAt: Date | null;
  /** What the step reported (or would have) when it committed. */
  result: ActionResult | null;
}

/**
 * Thrown by a ledger claim that met a committed row of the same step: another
 * attempt (a worker that died, or one that lost the job's lock) committed the
 * effect first. Nothing of this attempt ran; the step runner reads the ledger
 * and reports that result.
 */
export class EffectAlreadyCommitted extends ActionError {
  constructor(readonly key: EffectKey, cause: unknown) {
    super('ledger.already_committed', `this step's effect was already committed by another attempt; nothing was run again`, { cause });
    this.name = 'EffectAlreadyCommitted';
  }
}

/** The ledger table could not be created or read: the step does not run without it. */
export function ledgerUnavailable(connection: string, where: string, reason: string, cause: unknown): ActionError {
  return new ActionError(
    'ledger.unavailable',
    `the effect ledger ${where} on "${connection}" is not usable (${reason}); the step did not run. Grant the runbook's login CREATE on the database, or create the table beforehand (docs/crash-recovery.md)`,
    { cause, details: { connection } },
  );
}

const resultSchema = z.object({ summary: z.string(), details: z.record(z.string(), z.unknown()).optional() });

/** A ledger row's result column, read back; null for a row whose transaction ended before its result was recorded. */
export function parseLedgerResult(value: unknown): ActionResult | null {
  if (value === null || value === undefined) return null;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const result = resultSchema.safeParse(parsed);
  if (!result.success) return null;
  return result.data.details ? { summary: result.data.summary, details: result.data.details } : { summary: result.data.summary };
}
