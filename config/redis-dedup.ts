import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DeliveryDedup } from './delivery-dedup.js';

/**
 * DeliveryDedup on Redis: SET NX is the test-and-set, so of any number of
 * concurrent deliveries of one key exactly one sees true. Keys are hashed
 * because Slack ids and payload-derived keys have unbounded length and charset.
 */
export class RedisDeliveryDedup implements DeliveryDedup {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'cutover',
  ) {}

  async firstDelivery(key: string, ttlSeconds = 3600): Promise<boolean> {
    // EX 0 or a fraction is an error in Redis; a bad ttl must not turn into "seen before".
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const hashed = createHash('sha256').update(key).digest('hex');
    const set = await this.redis.set(`${this.prefix}:dedup:${hashed}`, '1', 'EX', ttl, 'NX');
    return set === 'OK';
  }
}
