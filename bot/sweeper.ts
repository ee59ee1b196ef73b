import cron from 'node-cron';
import type { Logger } from 'pino';
import type { LeaderLease } from '../config/redis-lock.js';

export interface Sweeper {
  /** Runs one sweep now if this process leads (tests and start-up); resolves when done. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** A cron expression firing every `seconds` (node-cron has a seconds field). */
export function everySeconds(seconds: number): string {
  if (seconds < 60) return `*/${seconds} * * * * *`;
  return `0 */${Math.max(1, Math.round(seconds / 60))} * * * *`;
}

/**
 * The one loop every sweep makes: visit each item in turn (in order, one at a
 * time: a sweep must not flood Slack or Redis), and when one fails, log it
 * and go on, so one broken run, schedule or task never starves the others.
 * Resolves when all were visited; never rejects for an item.
 */
export async function sweepEach<T>(items: Iterable<T>, visit: (item: T) => Promise<void>, failed: (err: unknown, item: T) => void): Promise<void> {
  for (const item of items) {
    await visit(item).catch((err: unknown) => failed(err, item));
  }
}

/**
 * The escalation scheduler of `web`: a node-cron task that, on every tick,
 * first makes sure this process holds the Redis lease, and only then sweeps.
 * Two web processes therefore never sweep at the same time; if the leader
 * dies its lease lapses and another takes over. Ticks never overlap.
 */
export function startSweeper(deps: { lease: LeaderLease; seconds: number; log: Logger; tasks: Array<{ name: string; run: () => Promise<void> }> }): Sweeper {
  let leading = false;
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    const held = await deps.lease.hold();
    if (held !== leading) deps.log.info({ leading: held }, held ? 'escalation sweep: leading' : 'escalation sweep: another web process leads');
    leading = held;
    if (!held) return;
    await sweepEach(deps.tasks, (task) => task.run(), (err, task) => deps.log.error({ err, task: task.name }, 'sweep task failed'));
  };
  const task = cron.schedule(everySeconds(deps.seconds), tick, { name: 'escalation-sweep', noOverlap: true });
  return {
    tick,
    async stop() {
      stopped = true;
      await task.destroy();
      await deps.lease.release();
    },
  };
}
