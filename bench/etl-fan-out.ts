/**
 * The fan-out part of bench/etl-load.ts (issue 15, part 4): one table loaded
 * by 1 and then 2 worker processes through the product's own path — a step
 * job on BullMQ adds the chunks as its children (engine/etl/fan-out.ts), and
 * chunk-worker processes (this file with --chunk-worker) load them with the
 * chunk runner and etl.copy's chunk source (values → encoder → COPY, encoder
 * on each process's own thread), as worker processes on other machines would.
 *
 *   imported by bench/etl-load.ts; needs Redis (REDIS_URL, default 127.0.0.1:6379)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import type pg from 'pg';
import { pino } from 'pino';
import { ChunkFlows, createChunkWorker } from '../config/chunk-flow.js';
import { BullJobQueue, createStepWorker, redisConnection } from '../config/job-queue.js';
import { chunkSourceOpeners } from '../engine/actions/chunk-sources.js';
import { runChunkJob, StepSources } from '../engine/chunk-runner.js';
import { openConnections } from '../engine/connections.js';
import type { TableMapping } from '../engine/etl/contracts.js';
import { EncodingSource } from '../engine/etl/encoding-source.js';
import { fanOutLoad } from '../engine/etl/fan-out.js';
import type { LoadReport } from '../engine/etl/load-report.js';
import { valueSource } from './etl-values.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const READY = 'bench chunk worker ready';

/** Child mode: a chunk worker of the product, loading etl.copy chunks from the bench's value source. */
async function chunkWorker(prefix: string, rows: number, databaseUrl: string): Promise<void> {
  const redis = redisConnection(REDIS_URL, 'bench-chunks');
  const sources = new StepSources();
  const params = { source: 'src', target: 'target', threads: 0, parallel: 1 };
  const worker = createChunkWorker(
    redisConnection(REDIS_URL, 'bench-chunks-bullmq'),
    redis,
    prefix,
    (job, control) =>
      runChunkJob(job, control, {
        log: pino({ level: 'warn' }),
        sqlDir: '',
        connections: openConnections,
        openers: chunkSourceOpeners(async () => valueSource(rows)),
        sources,
        resolve: async () => ({ action: 'etl.copy', params, connections: { src: { kind: 'mssql', url: 'mssql://unused@127.0.0.1/unused' }, target: { kind: 'postgres', url: databaseUrl } } }),
      }),
    { concurrency: Number(process.env.BENCH_CHUNK_CONCURRENCY ?? 2), prefix },
  );
  await worker.waitUntilReady();
  process.stdout.write(`${READY}\n`);
  process.once('SIGTERM', () => void worker.close().then(() => sources.close()).then(() => process.exit(0)));
}

function startChild(prefix: string, rows: number, databaseUrl: string): Promise<ChildProcess> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--chunk-worker', prefix, String(rows), databaseUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes(READY)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`chunk worker exited ${code} before it was ready`)));
  });
}

export interface FanOutBench {
  /** Loads `table` (fresh) by the step job's fan-out to the chunk workers running now; returns seconds. */
  load(table: TableMapping, etlSchema: string): Promise<number>;
  /** Starts one more chunk-worker process. */
  addWorker(): Promise<void>;
  close(): Promise<void>;
}

/** A step worker in this process (it only plans and watches) and chunk-worker processes added one by one. */
export async function startFanOutBench(pool: pg.Pool, rows: number, chunkRows: number, databaseUrl: string): Promise<FanOutBench> {
  const prefix = `bench-fanout-${randomBytes(4).toString('hex')}`;
  const redis = redisConnection(REDIS_URL, 'bench-fanout');
  const flows = new ChunkFlows(redis, redis, prefix);
  const queue = new BullJobQueue(redis, { prefix });
  const pending = new Map<string, { table: TableMapping; schema: string; done: (r: LoadReport) => void }>();
  // BullMQ does not close a connection it was given: this one is disconnected in close().
  const stepConnection = redisConnection(REDIS_URL, 'bench-fanout-steps');
  const steps = createStepWorker(
    stepConnection,
    async (job, lease, flow) => {
      const p = pending.get(job.jobId);
      if (!p || !flow) throw new Error(`bench: no load for ${job.jobId}`);
      p.done(await fanOutLoad({
        pool, source: new EncodingSource(valueSource(rows)), tables: [p.table], loadId: `bench/${job.jobId}`, chunkRows, schema: p.schema,
        truncate: 'if-fresh', freeze: true, signal: lease ?? new AbortController().signal, flow, step: { runId: job.runId, stepId: job.stepId, attempt: job.attempt }, pollMs: 100,
      }));
    },
    { prefix, flowOf: (job: Job) => flows.flowOf(job) },
  );
  await steps.waitUntilReady();
  const children: ChildProcess[] = [];
  return {
    async load(table, schema) {
      const jobId = `bench-${randomBytes(4).toString('hex')}`;
      const t0 = performance.now();
      const report = await new Promise<LoadReport>((done) => {
        pending.set(jobId, { table, schema, done });
        void queue.enqueue({ jobId, runId: 'bench', stepId: jobId, attempt: 1 });
      });
      const seconds = (performance.now() - t0) / 1000;
      if (!report.ok || report.totals.rows !== rows) throw new Error(`fan-out loaded ${report.totals.rows} of ${rows} rows: ${report.error?.message ?? ''}`);
      return seconds;
    },
    async addWorker() {
      children.push(await startChild(prefix, rows, databaseUrl));
    },
    async close() {
      await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
      await steps.close();
      await flows.close();
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      stepConnection.disconnect();
      redis.disconnect();
    },
  };
}

const args = process.argv.slice(2);
if (args[0] === '--chunk-worker') await chunkWorker(args[1] ?? '', Number(args[2]), args[3] ?? '');
