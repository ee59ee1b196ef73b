import type { Redis } from 'ioredis';

/**
 * People's names by Slack user id, kept with a TTL so a report or a message
 * costs a users.info call per person once in a while, not per render, and
 * web and worker share what either learnt.
 */
export interface NameCache {
  /** The names still cached for these ids; an id missing from the map is unknown or expired. */
  get(ids: readonly string[]): Promise<Map<string, string>>;
  put(names: ReadonlyMap<string, string>, ttlSeconds: number): Promise<void>;
}

/** NameCache on Redis: one key per person with EX, read with one MGET. */
export class RedisNameCache implements NameCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'cutover',
  ) {}

  private key(id: string): string {
    return `${this.prefix}:name:${id}`;
  }

  async get(ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (ids.length === 0) return found;
    const values = await this.redis.mget(...ids.map((id) => this.key(id)));
    ids.forEach((id, i) => {
      const value = values[i];
      if (typeof value === 'string') found.set(id, value);
    });
    return found;
  }

  async put(names: ReadonlyMap<string, string>, ttlSeconds: number): Promise<void> {
    if (names.size === 0) return;
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const batch = this.redis.multi();
    for (const [id, name] of names) batch.set(this.key(id), name, 'EX', ttl);
    await batch.exec();
  }
}

/** NameCache in this process's memory (local mode without Redis). */
export class MemoryNameCache implements NameCache {
  private readonly names = new Map<string, { name: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(ids: readonly string[]): Promise<Map<string, string>> {
    const at = this.now();
    const found = new Map<string, string>();
    for (const id of ids) {
      const hit = this.names.get(id);
      if (hit && hit.until > at) found.set(id, hit.name);
    }
    return found;
  }

  async put(names: ReadonlyMap<string, string>, ttlSeconds: number): Promise<void> {
    const until = this.now() + Math.max(1, Math.ceil(ttlSeconds)) * 1000;
    for (const [id, name] of names) this.names.set(id, { name, until });
  }
}
