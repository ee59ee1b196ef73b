import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Compare-and-act in one step: between a GET and a DEL another holder could have taken the lock.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A mutual-exclusion lock with a TTL: only the holder of the token renews or releases it. */
export interface Lock {
  readonly ttlMs: number;
  /** The token when acquired; null when someone else holds the lock. */
  acquire(token?: string): Promise<string | null>;
  /** Extends the lock by ttlMs if `token` still holds it. */
  renew(token: string): Promise<boolean>;
  /** Releases the lock only if `token` still holds it; never releases another holder's lock. */
  release(token: string): Promise<boolean>;
}

/**
 * A mutual-exclusion lock on one Redis key: SET NX PX with a random token,
 * so only the holder can renew or release it, and a holder that dies simply
 * lets it expire after `ttlMs`.
 */
export class RedisLock implements Lock {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly ttlMs: number,
  ) {}

  /** The token when acquired; null when someone else holds the lock. */
  async acquire(token: string = randomBytes(16).toString('hex')): Promise<string | null> {
    const set = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    return set === 'OK' ? token : null;
  }

  /** Extends the lock by ttlMs if `token` still holds it. */
  async renew(token: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.key, token, String(this.ttlMs))) === 1;
  }

  /** Releases the lock only if `token` still holds it; never releases another holder's lock. */
  async release(token: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.key, token)) === 1;
  }
}

/**
 * Leadership over a lock for one process: `hold()` renews the lock if this
 * process has it, else tries to take it. A background renewal keeps a long
 * sweep from losing it halfway; a dead leader's lock lapses after its TTL.
 */
export class LeaderLease {
  private token: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly lock: Lock) {}

  get held(): boolean {
    return this.token !== null;
  }

  /** True when this process holds the lock after the call. Never throws: a Redis error means "not leader". */
  async hold(): Promise<boolean> {
    try {
      if (this.token && (await this.lock.renew(this.token))) return true;
      this.token = await this.lock.acquire();
    } catch {
      this.token = null;
    }
    if (this.token && !this.timer) {
      this.timer = setInterval(() => void this.hold(), Math.max(250, Math.floor(this.lock.ttlMs / 3)));
      this.timer.unref();
    }
    if (!this.token) this.stopTimer();
    return this.token !== null;
  }

  async release(): Promise<void> {
    this.stopTimer();
    const token = this.token;
    this.token = null;
    if (token) await this.lock.release(token).catch(() => false);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
