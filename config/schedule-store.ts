import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A run that starts by itself at `at`, as the person who scheduled it. */
export const scheduledRunSchema = z
  .object({
    id: z.string().min(1),
    runbook: z.string().min(1),
    at: z.number().int(),
    channel: z.string().min(1),
    by: z.string().min(1),
    createdAt: z.number().int(),
    /** The run id the start uses: deterministic, so starting twice cannot create two runs. */
    runId: z.string().min(1),
  })
  .strict();

export type ScheduledRun = z.infer<typeof scheduledRunSchema>;

/**
 * Scheduled runs and what has been done for them: milestones claimed once
 * (a reminder is sent once whoever sweeps), roll-call confirmations, and the
 * ts of the roll-call messages to update.
 */
export interface ScheduleStore {
  add(run: ScheduledRun): Promise<void>;
  /** Every schedule, soonest first; an entry that no longer parses is skipped rather than trusted. */
  list(): Promise<ScheduledRun[]>;
  get(id: string): Promise<ScheduledRun | null>;
  /** Forgets a schedule and everything recorded for it; false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Marks a milestone done; true only for the first caller, who then performs it. */
  claim(id: string, milestone: string, at: number): Promise<boolean>;
  done(id: string): Promise<Set<string>>;
  confirm(id: string, call: number, role: string, user: string, at: number): Promise<void>;
  /** Who confirmed for each role in one roll call. */
  confirmations(id: string, call: number): Promise<Record<string, string[]>>;
  setMessage(id: string, name: string, ts: string): Promise<void>;
  message(id: string, name: string): Promise<string | null>;
}

/**
 * Scheduled runs in Redis (they survive restarts of `web`): one hash of
 * schedules, and per schedule the milestones already done (HSETNX is the
 * claim, so a reminder is sent once whoever sweeps), roll-call confirmations
 * and the ts of the roll-call messages to update.
 */
export class RedisScheduleStore implements ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get all(): string {
    return `${this.prefix}:schedules`;
  }

  private key(id: string, what: 'done' | 'confirmed' | 'messages'): string {
    return `${this.prefix}:schedule:${id}:${what}`;
  }

  async add(run: ScheduledRun): Promise<void> {
    await this.redis.hset(this.all, run.id, JSON.stringify(run));
  }

  /** Every schedule, soonest first; an entry that no longer parses is skipped rather than trusted. */
  async list(): Promise<ScheduledRun[]> {
    const raw = await this.redis.hgetall(this.all);
    return Object.values(raw)
      .flatMap((text) => {
        const parsed = scheduledRunSchema.safeParse(safeJson(text));
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.at - b.at);
  }

  async get(id: string): Promise<ScheduledRun | null> {
    const text = await this.redis.hget(this.all, id);
    const parsed = text === null ? null : scheduledRunSchema.safeParse(safeJson(text));
    return parsed?.success ? parsed.data : null;
  }

  /** Forgets a schedule and everything recorded for it; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.redis.hdel(this.all, id);
    await this.redis.del(this.key(id, 'done'), this.key(id, 'confirmed'), this.key(id, 'messages'));
    return removed === 1;
  }

  /** Marks a milestone done; true only for the first caller, who then performs it. */
  async claim(id: string, milestone: string, at: number): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(id, 'done'), milestone, String(at))) === 1;
  }

  async done(id: string): Promise<Set<string>> {
    return new Set(await this.redis.hkeys(this.key(id, 'done')));
  }

  async confirm(id: string, call: number, role: string, user: string, at: number): Promise<void> {
    await this.redis.hset(this.key(id, 'confirmed'), `${call}|${role}|${user}`, String(at));
  }

  /** Who confirmed for each role in one roll call. */
  async confirmations(id: string, call: number): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const field of await this.redis.hkeys(this.key(id, 'confirmed'))) {
      const [c, role, user] = field.split('|');
      if (c !== String(call) || !role || !user) continue;
      (out[role] ??= []).push(user);
    }
    return out;
  }

  async setMessage(id: string, name: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(id, 'messages'), name, ts);
  }

  async message(id: string, name: string): Promise<string | null> {
    return this.redis.hget(this.key(id, 'messages'), name);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
