import type { Logger } from 'pino';
import { nextTry, type RetryPolicy } from '../runbook/retry-policy.js';
import { cancelledError } from './action.js';
import { EffectAlreadyCommitted } from './ledger/effect-key.js';
import type { Reporter } from './step-reports.js';
import { transientError } from './transient-errors.js';

/** How one attempt of a step is tried again after transient errors (docs/crash-recovery.md, "Automatic retry"). */
export interface TransientRetry {
  policy: RetryPolicy | null | undefined;
  /** Tries of this attempt that already failed and were retried (from the run's events: a worker restart keeps counting). */
  failedBefore: number;
  /** The step's signal: an abort, a rollback, the timeout, shutdown or a lost lock ends the wait and the retries. */
  signal: AbortSignal;
  report: Reporter;
  redact: (text: string) => string;
  log: Logger;
}

/** The try the step is on, for the failure message: which one failed last and of how many. */
export interface TryCount {
  try: number;
  of: number;
}

/**
 * Runs `once` and, while it fails with a transient error and the policy has a
 * try left, puts the retry on record (an event, so the thread, report and audit
 * show it) and runs it again after the backoff. The record comes first: a
 * retry the run refuses (tries used up, the step no longer running) is not made.
 * Safe for the actions the policy allows: a ledger-protected effect either
 * committed (the next try's claim meets the row: EffectAlreadyCommitted, read
 * back from the ledger) or left nothing; resumable actions continue; read-only
 * ones change nothing.
 */
export async function withTransientRetry<T>(once: () => Promise<T>, retry: TransientRetry, count: TryCount): Promise<T> {
  count.try = retry.failedBefore + 1;
  count.of = retry.policy?.attempts ?? 1;
  for (;;) {
    try {
      return await once();
    } catch (err) {
      const delayMs = await recordRetry(err, retry, count.try);
      if (delayMs === null) throw err;
      await pause(delayMs, retry.signal);
      count.try += 1;
    }
  }
}

/** The wait before the next try, once the run has it on record; null when this error is final. */
async function recordRetry(err: unknown, retry: TransientRetry, failedTry: number): Promise<number | null> {
  // Stopped from outside (abort, rollback, timeout, shutdown, lost lock): never a reason to try again.
  if (retry.signal.aborted || err instanceof EffectAlreadyCommitted) return null;
  const transient = transientError(err);
  const next = transient ? nextTry(retry.policy, failedTry) : null;
  if (!transient || !next) return null;
  const message = retry.redact(err instanceof Error ? `${transient.reason}: ${err.message}` : transient.reason).slice(0, 1000);
  retry.log.warn({ code: transient.code, try: failedTry, of: retry.policy?.attempts, delayMs: next.delayMs }, 'transient error; retrying the step');
  const recorded = await retry.report({ type: 'report.retrying', try: failedTry, code: transient.code, message, delayMs: next.delayMs });
  return recorded ? next.delayMs : null;
}

/** Waits, or rejects with the step's abort reason as soon as it stops. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelledError('retry', signal, 'The wait before the next try'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError('retry', signal, 'The wait before the next try'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
