import { z } from 'zod';
import { parseValueJson } from '../button-value.js';
import type { EscalationLevel } from '../../runbook/events.js';

export const ACK_ACTION = 'alert.acknowledge';

/** Which alert an Acknowledge button is about: a step's attempt, or the rollback request made at requestedAt. */
export type AckValue = { runId: string; level: EscalationLevel } & ({ stepId: string; attempt: number } | { requestedAt: number });

const LEVELS = ['reminder', 'escalation', 'overrun', 'page', 'blocked', 'unblocked', 'timeout', 'stalled'] as const satisfies readonly EscalationLevel[];

const schema = z
  .object({
    r: z.string().min(1).max(200),
    l: z.enum(LEVELS),
    s: z.string().min(1).max(200).optional(),
    a: z.number().int().positive().optional(),
    q: z.number().int().positive().optional(),
  })
  .strict()
  .refine((v) => (v.s !== undefined && v.a !== undefined) !== (v.q !== undefined), { message: 'expected a step and attempt, or a rollback request' });

export function encodeAckValue(v: AckValue): string {
  return JSON.stringify('stepId' in v ? { r: v.runId, l: v.level, s: v.stepId, a: v.attempt } : { r: v.runId, l: v.level, q: v.requestedAt });
}

export function decodeAckValue(raw: string | undefined): AckValue | null {
  const p = parseValueJson(raw, schema);
  if (!p) return null;
  const { r, l, s, a, q } = p;
  if (s !== undefined && a !== undefined) return { runId: r, level: l, stepId: s, attempt: a };
  return q !== undefined ? { runId: r, level: l, requestedAt: q } : null;
}
