/**
 * A Redis outage is ridden out visibly (issue 12, part 6): web and worker on a
 * Redis of the test's own (append-only, fsync always), which is stalled
 * (SIGSTOP) and then killed and started again. Meanwhile /healthz of both
 * answers 503 within a second, no "[ioredis] Unhandled error event" reaches
 * stderr, connection errors reach the JSON log once per outage and
 * connection, /healthz says 200 again once Redis is back, and the run goes on.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/free-port.js';
import { createInstallation, eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { click, migrate } from '../support/cutover-slack.js';
import { markerRunbook } from '../support/e2e-runbooks.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';

const SCHEMA = `e2e_outage_${process.pid}`;
let fake: FakeSlack;
let redis: OwnRedis;
let inst: Installation;
let web: ProductProcess;
let worker: ProductProcess;
let workerUrl: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });
db.on('error', () => undefined);

beforeAll(async () => {
  fake = await startFakeSlack();
  redis = await startOwnRedis({ persist: true });
  inst = await createInstallation(fake.apiUrl, { outage: markerRunbook(SCHEMA) }, { redisUrl: redis.url });
  inst.redis.on('error', () => undefined);
  const metricsPort = await freePort();
  workerUrl = `http://127.0.0.1:${metricsPort}`;
  web = await inst.startWeb();
  worker = await inst.startWorker({ WORKER_METRICS_PORT: String(metricsPort) });
}, 120_000);

afterAll(async () => {
  await redis?.resume();
  await inst?.cleanup().catch(() => undefined);
  await redis?.stop();
  await fake?.close();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

/** GET /healthz: the status and how long the answer took. */
async function healthz(base: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
  await res.text();
  return { status: res.status, ms: Date.now() - started };
}

// The ping's bound is 700 ms; the rest is for HTTP on a machine shared by many suites.
const WITHIN_MS = 1000;

describe('a Redis outage', () => {
  it('gets 503 from /healthz within a second while Redis is stalled or down, 200 when back, one log line per outage and connection, no stack traces, and the run goes on', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start outage');
    const runId = await eventually(() => inst.activeRunId('outage'));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['create']?.status === 'succeeded', 30_000, 'create succeeded');
    expect((await healthz(inst.botUrl)).status).toBe(200);
    expect((await healthz(workerUrl)).status).toBe(200);

    // Stalled: sockets open, nothing answers.
    redis.pause();
    for (const base of [inst.botUrl, workerUrl]) {
      const h = await healthz(base);
      expect(h.status).toBe(503);
      expect(h.ms).toBeLessThan(WITHIN_MS);
    }
    redis.resume();
    await eventually(async () => (await healthz(inst.botUrl)).status === 200, 20_000, 'web healthy after SIGCONT');
    await eventually(async () => (await healthz(workerUrl)).status === 200, 20_000, 'worker healthy after SIGCONT');

    // Killed: connections refused while ioredis retries, then a new server from the append-only file.
    await redis.kill();
    for (const base of [inst.botUrl, workerUrl]) {
      const h = await healthz(base);
      expect(h.status).toBe(503);
      expect(h.ms).toBeLessThan(WITHIN_MS);
    }
    // Long enough for several retries of every connection (ioredis retries every 50 ms to 2 s).
    await web.waitForLog('redis unreachable', 20_000);
    await new Promise((r) => setTimeout(r, 3000)); // let retries pile up: each would be a line if not gated
    await redis.start();
    await eventually(async () => (await healthz(inst.botUrl)).status === 200, 30_000, 'web healthy after restart');
    await eventually(async () => (await healthz(workerUrl)).status === 200, 30_000, 'worker healthy after restart');
    await web.waitForLog('redis reachable again', 20_000);

    // The run survived in the append-only file and goes on.
    await click(fake, inst.botUrl, 'U0DBA1', 'insert', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'succeeded', 40_000, 'insert succeeded');

    for (const proc of [web, worker]) {
      expect(proc.output.filter((l) => l.includes('Unhandled error event'))).toEqual([]);
      expect(proc.output.filter((l) => /^\s+at /.test(l))).toEqual([]);
      const lost = proc.output.filter((l) => l.includes('redis unreachable'));
      const bySource = new Map<string, number>();
      for (const line of lost) {
        const source = (JSON.parse(line) as { redis: string }).redis;
        bySource.set(source, (bySource.get(source) ?? 0) + 1);
      }
      // At most one line per connection for each of the two outages (a stalled Redis may raise no error at all).
      for (const [source, count] of bySource) expect(count, `${proc.name} ${source}`).toBeLessThanOrEqual(2);
    }
    expect(web.output.some((l) => l.includes('redis unreachable'))).toBe(true);
  }, 240_000);
});
