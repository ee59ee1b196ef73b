import { z } from 'zod';

/** The modals' callback ids: one for starting a run, one for every reason (and the rollback's scenario). */
export const START_CALLBACK = 'cutover.start';
export const REASON_CALLBACK = 'cutover.reason';

/** What a reason modal is for: the destructive commands, and hold (a reason, not destructive). */
const REASON_KINDS = ['abort', 'override', 'skip', 'hold', 'rollback', 'rollback-cancel'] as const;
export type ReasonKind = (typeof REASON_KINDS)[number];

/**
 * What a modal carries in `private_metadata` (Slack returns it unchanged in
 * the signed submission, as it does a button's value): who opened it, when,
 * and what it is about. Nothing is trusted beyond that: the submission is
 * decided again by the core, as a click is.
 */
export interface ModalMetadata {
  kind: ReasonKind | 'start';
  /** '' for start. */
  runId: string;
  stepId?: string;
  /** The step attempt a hold or skip was asked for: a later attempt refuses it. */
  attempt?: number;
  /** Where the run posts (start from a channel) or where the opener is answered; absent when opened from App Home. */
  channel?: string;
  user: string;
  openedAt: number;
}

const schema = z
  .object({
    k: z.enum(['start', ...REASON_KINDS]),
    r: z.string().max(200),
    s: z.string().min(1).max(200).optional(),
    a: z.number().int().positive().optional(),
    c: z.string().min(1).max(50).optional(),
    u: z.string().min(1).max(50),
    t: z.number().int().positive(),
  })
  .strict();

export function encodeMetadata(m: ModalMetadata): string {
  return JSON.stringify({
    k: m.kind,
    r: m.runId,
    ...(m.stepId ? { s: m.stepId } : {}),
    ...(m.attempt ? { a: m.attempt } : {}),
    ...(m.channel ? { c: m.channel } : {}),
    u: m.user,
    t: m.openedAt,
  });
}

/** Null for metadata this version did not write. */
export function decodeMetadata(raw: string | undefined): ModalMetadata | null {
  try {
    const p = schema.safeParse(JSON.parse(raw ?? ''));
    if (!p.success) return null;
    const d = p.data;
    return { kind: d.k, runId: d.r, user: d.u, openedAt: d.t, ...(d.s ? { stepId: d.s } : {}), ...(d.a ? { attempt: d.a } : {}), ...(d.c ? { channel: d.c } : {}) };
  } catch {
    return null;
  }
}
