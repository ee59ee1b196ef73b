import { randomBytes } from 'node:crypto';
import type { FollowUpIndex } from '../../runbook/ports.js';
import type { DeliveryDedup } from '../delivery-dedup.js';
import type { Lock } from '../redis-lock.js';
import type { MessageRefs } from '../redis-message-refs.js';

type Clock = () => number;

/** DeliveryDedup in memory: the first caller for a key within its ttl gets true (the check and set are one step). */
export class MemoryDeliveryDedup implements DeliveryDedup {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: Clock = Date.now) {}

  async firstDelivery(key: string, ttlSeconds = 3600): Promise<boolean> {
    const at = this.now();
    const until = this.seen.get(key);
    if (until !== undefined && until > at) return false;
    // Same rounding as the Redis EX argument, so a fractional ttl behaves alike.
    this.seen.set(key, at + Math.max(1, Math.ceil(ttlSeconds)) * 1000);
    if (this.seen.size > 10_000) this.forgetExpired(at);
    return true;
  }

  private forgetExpired(at: number): void {
    for (const [key, until] of this.seen) if (until <= at) this.seen.delete(key);
  }
}

/** Locks of one in-memory backend by name: two Lock objects on one name contend, as two processes on one Redis key do. */
export class MemoryLocks {
  private readonly held = new Map<string, { token: string; until: number }>();

  constructor(private readonly now: Clock = Date.now) {}

  lock(name: string, ttlMs: number): Lock {
    const held = this.held;
    const now = this.now;
    const current = (): { token: string; until: number } | undefined => {
      const entry = held.get(name);
      return entry && entry.until > now() ? entry : undefined;
    };
    return {
      ttlMs,
      async acquire(token = randomBytes(16).toString('hex')) {
        if (current()) return null;
        held.set(name, { token, until: now() + ttlMs });
        return token;
      },
      async renew(token) {
        const entry = current();
        if (entry?.token !== token) return false;
        entry.until = now() + ttlMs;
        return true;
      },
      async release(token) {
        if (current()?.token !== token) return false;
        held.delete(name);
        return true;
      },
    };
  }
}

/** MessageRefs in memory: one map of fields per run. */
export class MemoryMessageRefs implements MessageRefs {
  private readonly runs = new Map<string, Map<string, string>>();

  private fields(runId: string): Map<string, string> {
    let fields = this.runs.get(runId);
    if (!fields) this.runs.set(runId, (fields = new Map()));
    return fields;
  }

  async all(runId: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.runs.get(runId) ?? []);
  }

  async set(runId: string, fields: Record<string, string>): Promise<void> {
    const stored = this.fields(runId);
    for (const [field, value] of Object.entries(fields)) stored.set(field, value);
  }

  async claim(runId: string, field: string, value: string): Promise<boolean> {
    const stored = this.fields(runId);
    if (stored.has(field)) return false;
    stored.set(field, value);
    return true;
  }

  async get(runId: string, field: string): Promise<string | null> {
    return this.runs.get(runId)?.get(field) ?? null;
  }

  async unset(runId: string, field: string): Promise<void> {
    this.runs.get(runId)?.delete(field);
  }
}

/** FollowUpIndex in memory: a set of run ids, listed sorted as the Redis one is. */
export class MemoryFollowUpIndex implements FollowUpIndex {
  private readonly runs = new Set<string>();

  async add(runId: string): Promise<void> {
    this.runs.add(runId);
  }

  async remove(runId: string): Promise<void> {
    this.runs.delete(runId);
  }

  async list(): Promise<string[]> {
    return [...this.runs].sort();
  }
}
