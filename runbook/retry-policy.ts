import { z } from 'zod';
import type { CrashRecovery } from './action-catalog.js';
import { durationSchema } from './duration.js';

/**
 * Automatic retry of transient errors (a deadlock, a dropped connection): how
 * many tries a step gets in one attempt and how long it waits between them.
 * Which errors are transient is the engine's to say (engine/transient-errors.ts);
 * whether a step may be tried again is decided here, from its action's crash
 * recovery: only an action whose re-run is safe is retried by default, and one
 * that could do its effect twice ('ask') is never retried, even when asked to.
 */
export interface RetryPolicy {
  /** Tries in all, the first included (1: no retry). */
  attempts: number;
  /** The wait before the first retry; each further retry waits twice as long, up to MAX_RETRY_DELAY_SECONDS. */
  backoffSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffSeconds: 2 };
export const MAX_RETRY_ATTEMPTS = 10;
/** No wait between two tries is longer than this, however many tries a step has: a retry is for a blip, not an outage. */
export const MAX_RETRY_DELAY_SECONDS = 120;

/** A step's `retry:` — false switches retries off; an object sets tries and the first wait. */
export const retrySchema = z.union([
  z.literal(false),
  z
    .object({
      attempts: z
        .number()
        .int('expected a whole number of tries')
        .min(1, 'expected at least 1 try (1: no retry)')
        .max(MAX_RETRY_ATTEMPTS, `expected at most ${MAX_RETRY_ATTEMPTS} tries`)
        .default(DEFAULT_RETRY.attempts),
      backoff: durationSchema
        .refine((s) => s > 0 && s <= MAX_RETRY_DELAY_SECONDS, { message: `expected a backoff between 1s and ${MAX_RETRY_DELAY_SECONDS}s` })
        .default(DEFAULT_RETRY.backoffSeconds),
    })
    .strict(),
], { error: 'expected retry: false or retry: { attempts, backoff }' });
export type RetryDoc = z.infer<typeof retrySchema>;

export type RetryResolution = { ok: true; policy: RetryPolicy | null } | { ok: false; message: string };

/**
 * The policy a step runs with: its own `retry:` when its action may be
 * re-run, the default when it says nothing, none for an action whose re-run
 * could repeat its effect (refused when the runbook asks for retries there).
 */
export function resolveRetry(retry: RetryDoc | undefined, action: string, recovery: CrashRecovery): RetryResolution {
  if (retry === false) return { ok: true, policy: null };
  if (recovery.kind === 'ask') {
    if (retry && retry.attempts > 1) {
      return { ok: false, message: `automatic retry is refused for this step: \`${action}\` is not safe to run twice here (${recovery.why}); remove retry (or set retry: false) and let a person press Retry` };
    }
    return { ok: true, policy: null };
  }
  const policy = retry ? { attempts: retry.attempts, backoffSeconds: retry.backoff } : DEFAULT_RETRY;
  return { ok: true, policy: policy.attempts > 1 ? policy : null };
}

/** The wait before retry number `retry` (1 = the first retry): backoff doubled per retry, bounded by MAX_RETRY_DELAY_SECONDS. */
export function retryDelaySeconds(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.backoffSeconds * 2 ** Math.max(0, retry - 1), MAX_RETRY_DELAY_SECONDS);
}

/**
 * What follows the failed try number `failedTry` (1-based, counted across
 * worker restarts from the step's events): the next try and the wait before
 * it, or null when the policy has no try left.
 */
export function nextTry(policy: RetryPolicy | null | undefined, failedTry: number): { try: number; delayMs: number } | null {
  if (!policy || failedTry >= policy.attempts) return null;
  return { try: failedTry + 1, delayMs: retryDelaySeconds(policy, failedTry) * 1000 };
}
