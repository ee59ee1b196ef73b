import type { Redis } from 'ioredis';
import type { RunUpdates } from '../runbook/run-service.js';
import type { RunUpdateFeed } from './backend.js';

/**
 * Run-changed notices over Redis pub/sub. Lossy by nature: listeners also
 * re-read every active run at start-up and on a timer, so a missed notice
 * delays a render, never loses state.
 */
export class RedisRunUpdates implements RunUpdates {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  get channel(): string {
    return `${this.prefix}:run-updates`;
  }

  async publish(runId: string): Promise<void> {
    await this.redis.publish(this.channel, runId);
  }

  /** Subscribes on a dedicated connection (a subscribed ioredis client can do nothing else). */
  static async subscribe(subscriber: Redis, prefix: string, onUpdate: (runId: string) => void): Promise<() => Promise<void>> {
    const channel = `${prefix}:run-updates`;
    subscriber.on('message', (ch: string, runId: string) => {
      if (ch === channel) onUpdate(runId);
    });
    await subscriber.subscribe(channel);
    return async () => {
      await subscriber.unsubscribe(channel);
    };
  }
}

/** The feed of one Redis backend: publishes on its connection, subscribes on a dedicated one opened on demand. */
export class RedisRunUpdateFeed extends RedisRunUpdates implements RunUpdateFeed {
  constructor(
    redis: Redis,
    private readonly feedPrefix: string,
    private readonly openSubscriber: () => Redis,
  ) {
    super(redis, feedPrefix);
  }

  async subscribe(onUpdate: (runId: string) => void): Promise<() => Promise<void>> {
    const subscriber = this.openSubscriber();
    const unsubscribe = await RedisRunUpdates.subscribe(subscriber, this.feedPrefix, onUpdate);
    return async () => {
      await unsubscribe();
      subscriber.disconnect();
    };
  }
}
