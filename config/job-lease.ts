import { CutoverError } from '../runbook/errors.js';

/**
 * This worker's hold on each job it runs, as far as it can know it without
 * Redis. BullMQ renews a job's lock (SET … PX lockDuration) every quarter to
 * half of the lock's life; when Redis is stalled or unreachable no renewal
 * answers, the lock expires on the server, and another worker may take the
 * job over after its next stalled check, while this one is still running the
 * step. BullMQ tells the processor nothing then (its `lockRenewalFailed`
 * event comes only once Redis answers again, too late). So the hold expires
 * locally: a job whose last renewal was *sent* more than `safety` × the lock's
 * duration ago is declared lost and its signal fires, before the server-side
 * lock (set no earlier than that send) can have expired. A renewal Redis
 * refuses (the lock is gone or another worker's) fires it at once.
 */
export class JobLeases {
  private readonly held = new Map<string, { renewedAt: number; controller: AbortController }>();

  constructor(
    private readonly lockMs: number,
    private readonly now: () => number = Date.now,
    /** Fraction of the lock's life after which an unrenewed hold is given up; the rest is the step's time to roll back. */
    private readonly safety = 0.8,
  ) {}

  /** Starts holding a job whose lock was taken at `since` (BullMQ's processedOn, this worker's clock); its signal fires when the hold is lost. */
  hold(jobId: string, since: number): { signal: AbortSignal; release: () => void } {
    const controller = new AbortController();
    this.held.set(jobId, { renewedAt: Math.min(since, this.now()), controller });
    return { signal: controller.signal, release: () => void this.held.delete(jobId) };
  }

  /** These locks were renewed by a request sent at `sentAt` (the server set them no earlier). */
  renewed(jobIds: readonly string[], sentAt: number): void {
    for (const id of jobIds) {
      const h = this.held.get(id);
      if (h) h.renewedAt = Math.max(h.renewedAt, sentAt);
    }
  }

  /** Redis refused to renew these locks: another worker may hold them already. */
  refused(jobIds: readonly string[]): void {
    for (const id of jobIds) this.lose(id, 'Redis refused to renew the job\'s lock (it expired or another worker took the job)');
  }

  /** Gives up every hold not renewed in time; called on a timer. Returns the job ids given up. */
  expire(): string[] {
    const limit = this.lockMs * this.safety;
    const lost: string[] = [];
    for (const [id, h] of this.held) {
      const silent = this.now() - h.renewedAt;
      if (silent <= limit) continue;
      this.lose(id, `Redis did not confirm the job's lock for ${Math.round(silent / 100) / 10}s of its ${this.lockMs / 1000}s`);
      lost.push(id);
    }
    return lost;
  }

  private lose(jobId: string, why: string): void {
    const h = this.held.get(jobId);
    if (!h) return;
    this.held.delete(jobId);
    h.controller.abort(new CutoverError('worker.lock_lost', `this worker lost the job's lock: ${why}; the step was stopped so that no other worker runs it at the same time`));
  }
}
