import { z } from 'zod';
import type { DestructiveRequest } from '../../runbook/destructive.js';
import { parseValueJson } from '../button-value.js';
import { DESTRUCTIVE_KINDS, REASON_MAX_CHARS } from '../../runbook/reasons.js';

/**
 * What a Confirm button carries: the request as typed, who typed it and when.
 * Slack returns a button's value unchanged in a signed request, so the click
 * can rebuild the command without any state kept in the bot; the value stays
 * under Slack's 2000 characters because the reason is bounded.
 */
export interface ConfirmValue {
  request: DestructiveRequest;
  /** Who typed the command: only they may confirm it. */
  user: string;
  /** When it was typed: an old confirmation has expired. */
  typedAt: number;
}

const schema = z
  .object({
    r: z.string().min(1).max(200),
    k: z.enum(DESTRUCTIVE_KINDS as [DestructiveRequest['kind'], ...Array<DestructiveRequest['kind']>]),
    s: z.string().min(1).max(200).optional(),
    c: z.string().min(1).max(200).nullable().optional(),
    m: z.string().max(REASON_MAX_CHARS),
    u: z.string().min(1).max(50),
    t: z.number().int().positive(),
  })
  .strict();

export function encodeConfirmValue(v: ConfirmValue): string {
  const r = v.request;
  return JSON.stringify({
    r: r.runId,
    k: r.kind,
    ...(r.stepId ? { s: r.stepId } : {}),
    ...(r.scenario !== undefined ? { c: r.scenario } : {}),
    m: r.reason,
    u: v.user,
    t: v.typedAt,
  });
}

/** The value, with `runId` on top for the click prologue; null for anything this version did not write. */
export function decodeConfirmValue(raw: string | undefined): (ConfirmValue & { runId: string }) | null {
  const d = parseValueJson(raw, schema);
  if (!d) return null;
  const request: DestructiveRequest = { kind: d.k, runId: d.r, reason: d.m, ...(d.s ? { stepId: d.s } : {}), ...(d.c !== undefined ? { scenario: d.c } : {}) };
  return { runId: d.r, request, user: d.u, typedAt: d.t };
}
