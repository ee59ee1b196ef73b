import { z } from 'zod';
import { parseValueJson } from '../button-value.js';

/** What a follow-up's Done / Snooze control carries: the run, the follow-up, the reminder it is on, and a snooze period. */
export interface FollowUpValue {
  runId: string;
  followUpId: string;
  /** The reminder's number (1 for the first): a second Snooze from one reminder is answered, not recorded. */
  seq: number;
  /** Snooze only: seconds. */
  seconds?: number;
}

const schema = z.object({ r: z.string().min(1).max(200), f: z.string().min(1).max(200), n: z.number().int().positive(), s: z.number().int().positive().optional() }).strict();

export const encodeFollowUpValue = (v: FollowUpValue): string =>
  JSON.stringify({ r: v.runId, f: v.followUpId, n: v.seq, ...(v.seconds !== undefined ? { s: v.seconds } : {}) });

export function decodeFollowUpValue(raw: string | undefined): FollowUpValue | null {
  const parsed = parseValueJson(raw, schema);
  if (!parsed) return null;
  const { r, f, n, s } = parsed;
  return { runId: r, followUpId: f, seq: n, ...(s !== undefined ? { seconds: s } : {}) };
}
