import type { Redis } from 'ioredis';

/**
 * Where a run's Slack messages are (ts of the root and of each step's
 * message) and a hash of what was last rendered into each, so an unchanged
 * message is never edited again.
 */
export interface MessageRefs {
  all(runId: string): Promise<Record<string, string>>;
  set(runId: string, fields: Record<string, string>): Promise<void>;
  /** Sets a field only if it is absent: true for the one caller that set it, across processes and restarts. */
  claim(runId: string, field: string, value: string): Promise<boolean>;
  get(runId: string, field: string): Promise<string | null>;
  unset(runId: string, field: string): Promise<void>;
}

/** MessageRefs in one Redis hash per run (HSETNX is the claim). */
export class RedisMessageRefs implements MessageRefs {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(runId: string): string {
    return `${this.prefix}:run:${runId}:messages`;
  }

  async all(runId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key(runId));
  }

  async set(runId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.hset(this.key(runId), fields);
  }

  /** Sets a field only if it is absent (HSETNX): true for the one caller that set it, across processes and restarts. */
  async claim(runId: string, field: string, value: string): Promise<boolean> {
    return (await this.redis.hsetnx(this.key(runId), field, value)) === 1;
  }

  async get(runId: string, field: string): Promise<string | null> {
    return this.redis.hget(this.key(runId), field);
  }

  async unset(runId: string, field: string): Promise<void> {
    await this.redis.hdel(this.key(runId), field);
  }
}
