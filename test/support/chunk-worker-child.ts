/**
 * A worker process that only loads chunks (fan-out tests of etl.copy): the
 * product's chunk worker and chunk runner, with the step resolved from the
 * environment instead of a run, and etl.copy reading the generated source of
 * fan-out-source.ts instead of SQL Server. Prints "chunk worker ready", then
 * the runner's pino lines ("chunk loaded" …) on stdout.
 */
import { pino } from 'pino';
import { createChunkWorker } from '../../config/chunk-flow.js';
import { redisConnection } from '../../config/job-queue.js';
import { chunkSourceOpeners } from '../../engine/actions/chunk-sources.js';
import { runChunkJob, StepSources } from '../../engine/chunk-runner.js';
import { openConnections } from '../../engine/connections.js';
import { fanOutSource } from './fan-out-source.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const prefix = env('PREFIX');
const rows = Number(env('ROWS'));
const failAt = process.env.FAIL_AT ? Number(process.env.FAIL_AT) : undefined;
const delayMs = Number(process.env.DELAY_MS ?? '0');
const params = JSON.parse(env('STEP_PARAMS')) as unknown;
const log = pino({ level: 'info' });
const redis = redisConnection(env('REDIS_URL'), 'chunk-child');
const sources = new StepSources();
const worker = createChunkWorker(
  redisConnection(env('REDIS_URL'), 'chunk-child-bullmq'),
  redis,
  prefix,
  (job, control) =>
    runChunkJob(job, control, {
      log,
      sqlDir: '',
      connections: openConnections,
      openers: chunkSourceOpeners(async () => fanOutSource({ rows, ...(failAt ? { failAt } : {}), delayMs })),
      sources,
      resolve: async () => ({
        action: 'etl.copy',
        params,
        connections: { src: { kind: 'mssql', url: 'mssql://unused@127.0.0.1:1433/unused' }, target: { kind: 'postgres', url: env('DATABASE_URL') } },
      }),
    }),
  { concurrency: Number(process.env.CONCURRENCY ?? '1'), lockDurationMs: 2000, stalledIntervalMs: 1000, maxStalledCount: 3, prefix },
);
worker.on('error', (err) => log.error({ err: err.message }, 'chunk worker error'));
await worker.waitUntilReady();
log.info('chunk worker ready');
process.once('SIGTERM', () => {
  void worker.close().then(async () => {
    await sources.close();
    redis.disconnect();
    process.exit(0);
  });
});
