import type { Logger } from 'pino';

/** What the outage log needs of a logger (a pino Logger, or a test's recorder). */
export type OutageLogger = Pick<Logger, 'warn' | 'info'>;

/**
 * Redis connection errors in the JSON log, once per outage and source: the
 * first error after the source was fine, then one line when it is back.
 * ioredis retries a lost connection every couple of seconds and emits an
 * error for each try, and a connection with no 'error' listener prints
 * "[ioredis] Unhandled error event" with a stack to stderr every time, so
 * every connection (and BullMQ's queue and worker, which re-emit theirs)
 * reports here instead. Without a logger the errors are only swallowed: the
 * commands themselves wait out the outage or fail on their own.
 */
export class RedisOutages {
  private readonly down = new Set<string>();

  constructor(private readonly log?: OutageLogger) {}

  error(source: string, err: unknown): void {
    if (this.down.has(source)) return;
    this.down.add(source);
    const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
    this.log?.warn({ redis: source, err: err instanceof Error ? err.message : String(err), ...(code ? { code } : {}) }, 'redis unreachable: retrying, logged once until it is back');
  }

  /** The source works again (a connection's 'ready'); its next error is logged. */
  back(source: string): void {
    if (this.down.delete(source)) this.log?.info({ redis: source }, 'redis reachable again');
  }

  /** Every source the main connection stands for is back (BullMQ's worker has no 'ready' of its own to say so). */
  allBack(): void {
    for (const source of [...this.down]) this.back(source);
  }

  /** Listens on a connection (or anything emitting 'error' and 'ready'). */
  watch(emitter: { on(event: 'error', fn: (err: Error) => void): unknown; on(event: 'ready', fn: () => void): unknown }, source: string): void {
    emitter.on('error', (err) => this.error(source, err));
    emitter.on('ready', () => this.back(source));
  }
}
