import { z } from 'zod';
import { BUTTON_VALUE_MAX_CHARS } from '../runbook/input-bounds.js';

/**
 * A button's or menu option's value read as JSON against its schema: null
 * for anything this bot did not write (longer than Slack allows a value, not
 * JSON, another shape). The one way values are decoded; it never throws.
 */
export function parseValueJson<T>(raw: string | undefined, schema: z.ZodType<T>): T | null {
  if (!raw || raw.length > BUTTON_VALUE_MAX_CHARS) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const STEP_BUTTON_ACTIONS = ['approve', 'hold', 'release', 'retry', 'skip'] as const;
export type StepButtonAction = (typeof STEP_BUTTON_ACTIONS)[number];

/** What a step button carries: enough to refuse a stale click (an earlier attempt) without guessing. */
const buttonValueSchema = z.object({ r: z.string().min(1).max(200), s: z.string().min(1).max(200), a: z.number().int().positive() }).strict();

export interface StepButtonValue {
  runId: string;
  stepId: string;
  attempt: number;
}

export const encodeButtonValue = (v: StepButtonValue): string => JSON.stringify({ r: v.runId, s: v.stepId, a: v.attempt });

export function decodeButtonValue(raw: string | undefined): StepButtonValue | null {
  const parsed = parseValueJson(raw, buttonValueSchema);
  return parsed ? { runId: parsed.r, stepId: parsed.s, attempt: parsed.a } : null;
}
