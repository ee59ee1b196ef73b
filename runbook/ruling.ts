import type { ErrorCode } from './error-codes.js';
import type { RunEvent } from './events.js';

/** A refused command: a code for machines, a sentence for the person who sent it. */
export interface Refusal {
  ok: false;
  code: ErrorCode;
  message: string;
}

/**
 * What a sub-decider (gate, rollback, escalation, follow-ups) answers: the
 * events, or a refusal. `decide` adds the run after them and the effects they
 * call for, in one place, so no sub-decider derives an effect of its own.
 */
export type Ruling = { ok: true; events: RunEvent[] } | Refusal;

export const refuse = (code: ErrorCode, message: string): Refusal => ({ ok: false, code, message });
