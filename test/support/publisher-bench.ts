import { randomBytes } from 'node:crypto';
import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { RedisMessageRefs } from '../../config/redis-message-refs.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';

export interface PublisherBench {
  /** The file's own Redis key prefix, so files and runs never share message refs. */
  prefix: string;
  redis: Redis;
  /** The fake Slack, started before the file's tests. */
  readonly fake: FakeSlack;
  /** What one web process builds for its RunPublisher: its own Slack client, the shared refs, a silent log. */
  web(): { client: WebClient; refs: RedisMessageRefs; log: Logger };
}

/**
 * The set-up of a file of RunPublisher tests: a fake Slack and a Redis prefix
 * for the file, started before its tests and cleaned away after them.
 */
export function publisherBench(name: string): PublisherBench {
  const prefix = `${name}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let fake: FakeSlack | undefined;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await fake?.close();
  });
  const started = (): FakeSlack => {
    if (!fake) throw new Error('the fake Slack starts in beforeAll');
    return fake;
  };
  return {
    prefix,
    redis,
    get fake() {
      return started();
    },
    web: () => ({ client: new WebClient('xoxb-fake', { slackApiUrl: started().apiUrl }), refs: new RedisMessageRefs(redis, prefix), log: pino({ level: 'silent' }) }),
  };
}
