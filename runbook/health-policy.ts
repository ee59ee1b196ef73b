import { z } from 'zod';
import { durationSchema } from './duration.js';

/**
 * The runbook's `health:` block: how often the worker samples the databases
 * while a long step runs, and how long a wait may last before it alerts.
 * Defaults suit a night's cutover: a look every 15 s, an alert after a minute.
 */
export const healthSchema = z
  .object({
    /** false: no sampling at all (e.g. a database that forbids the monitoring queries). */
    enabled: z.boolean().default(true),
    interval: durationSchema.default(15).refine((s) => s >= 1 && s <= 600, 'expected an interval between 1s and 10m'),
    /** A session blocked by another session longer than this alerts. */
    block_threshold: durationSchema.default(60).refine((s) => s >= 1, 'expected at least 1s'),
    /** A session waiting on a lock longer than this alerts, even when no blocking session can be named. */
    lock_wait_threshold: durationSchema.default(60).refine((s) => s >= 1, 'expected at least 1s'),
    /** Statements running longer than this are listed in the step's message (they do not alert). */
    long_statement: durationSchema.default(600),
  })
  .strict()
  .prefault({});

export type HealthDoc = z.infer<typeof healthSchema>;

/** The thresholds in seconds, as the sampler and the alert decision use them. */
export interface HealthPolicy {
  enabled: boolean;
  intervalSeconds: number;
  blockSeconds: number;
  lockWaitSeconds: number;
  longStatementSeconds: number;
}

export const healthPolicyOf = (doc: HealthDoc): HealthPolicy => ({
  enabled: doc.enabled,
  intervalSeconds: doc.interval,
  blockSeconds: doc.block_threshold,
  lockWaitSeconds: doc.lock_wait_threshold,
  longStatementSeconds: doc.long_statement,
});
