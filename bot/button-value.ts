import { z } from 'zod';

export const STEP_BUTTON_ACTIONS = ['approve', 'hold', 'release', 'retry', 'skip'] as const;
export type StepButtonAction = (typeof STEP_BUTTON_ACTIONS)[number];

/** What a step button carries: enough to refuse a stale click (an earlier attempt) without guessing. */
const buttonValueSchema = z.object({ r: z.string().min(1), s: z.string().min(1), a: z.number().int().positive() }).strict();

export interface StepButtonValue {
  runId: string;
  stepId: string;
  attempt: number;
}

export const encodeButtonValue = (v: StepButtonValue): string => JSON.stringify({ r: v.runId, s: v.stepId, a: v.attempt });

export function decodeButtonValue(raw: string | undefined): StepButtonValue | null {
  if (!raw) return null;
  try {
    const parsed = buttonValueSchema.safeParse(JSON.parse(raw));
    return parsed.success ? { runId: parsed.data.r, stepId: parsed.data.s, attempt: parsed.data.a } : null;
  } catch {
    return null;
  }
}
