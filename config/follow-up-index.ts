import type { Redis } from 'ioredis';
import type { FollowUpIndex } from '../runbook/ports.js';

/** The FollowUpIndex as one Redis set of run ids (`<prefix>:follow-ups`). */
export class RedisFollowUpIndex implements FollowUpIndex {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}:follow-ups`;
  }

  async add(runId: string): Promise<void> {
    await this.redis.sadd(this.key, runId);
  }

  async remove(runId: string): Promise<void> {
    await this.redis.srem(this.key, runId);
  }

  /** Sorted, so sweeps and `/migrate status` list runs in a stable order. */
  async list(): Promise<string[]> {
    return (await this.redis.smembers(this.key)).sort();
  }
}
