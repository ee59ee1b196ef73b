import { Redis } from 'ioredis';

/**
 * Whether a Redis answers PING at `url` within `timeoutMs`. Never throws and
 * never retries: local mode asks once at start-up and otherwise runs on its
 * in-process backend.
 */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: 'cutover:local-probe',
  });
  probe.on('error', () => {}); // a refused connection is the answer, not an error to report
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  try {
    const answered = probe.connect().then(
      async () => (await probe.ping()) === 'PONG',
      () => false,
    );
    return await Promise.race([answered, timer]);
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
