/**
 * Cost of web's GET /metrics. The run gauges are computed at scrape time from
 * the active runs' folds; web keeps the newest fold it made anyway
 * (bot/latest-runs.ts) rather than folding every run again per scrape. Writes
 * `runs` active runs of `events` events each (mostly step.progress, as a long
 * ETL leaves them: one every 3 s is 1,200 an hour) under a throw-away prefix,
 * then times scrapes both ways.
 *
 *   npx tsx bench/metrics-scrape.ts [runs] [events]     (default 3 runs × 10,000 events; REDIS_URL)
 *
 * Prints figures; not a test. The prefix's keys are deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LatestRuns } from '../bot/latest-runs.js';
import { registry, setActiveRunsSource } from '../config/metrics.js';
import { RedisRunStore } from '../config/redis-run-store.js';
import { runGaugeSamples } from '../config/run-metrics.js';
import { decide } from '../runbook/decide.js';
import type { RunEvent } from '../runbook/events.js';
import { planOf } from '../runbook/plan.js';
import { fold } from '../runbook/state.js';
import { runbookSchema } from '../runbook/schema.js';

const RUNS = Number(process.argv[2] ?? 3);
const EVENTS = Number(process.argv[3] ?? 10_000);
const SCRAPES = 20;
const prefix = `bench-metrics-${randomBytes(3).toString('hex')}`;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const store = new RedisRunStore<RunEvent>(redis, prefix);

const doc = runbookSchema.parse({
  title: 'Bench',
  roles: { dba: { title: 'DBA', members: ['U1', 'U2'] } },
  phases: [{ id: 'p', title: 'P', steps: [
    { id: 'copy', title: 'Copy', approve: 'dba', action: 'manual' },
    { id: 'load', title: 'Load', approve: 'dba', action: 'manual' },
  ] }],
});

async function writeRun(i: number): Promise<void> {
  const plan = planOf(`bench${i}`, doc);
  const runId = `bench${i}-run`;
  const t0 = Date.now() - EVENTS * 3000;
  const started = decide(null, { type: 'start', at: t0, actor: { id: 'U1' }, runId, channel: 'C1', dryRun: false, plan, runbookFile: 'bench.yaml', runbookText: '' });
  if (!started.ok) throw new Error(started.message);
  const progress: RunEvent[] = Array.from({ length: EVENTS - started.events.length }, (_, k) => ({
    type: 'step.progress', at: t0 + k * 3000, stepId: 'copy', attempt: 1, message: `copied ${k * 50_000} rows`, data: { rows: k * 50_000, rowsPerSecond: 16_000 },
  }));
  await store.create(runId, plan.runbook, started.events);
  for (let k = 0; k < progress.length; k += 1000) {
    const { version } = await store.load(runId);
    await store.append(runId, version, progress.slice(k, k + 1000));
  }
}

async function timeScrapes(): Promise<string> {
  const times: number[] = [];
  let bytes = 0;
  for (let k = 0; k < SCRAPES; k++) {
    const t = performance.now();
    bytes = (await registry.metrics()).length;
    times.push(performance.now() - t);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const q = (p: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, first ${(times[0] ?? 0).toFixed(1)} ms (${bytes.toLocaleString('en-US')} bytes)`;
}

try {
  for (let i = 0; i < RUNS; i++) await writeRun(i);
  const load = async (runId: string) => fold((await store.load(runId)).events);
  const activeIds = async () => (await store.active()).map((a) => a.runId);
  console.log(`${RUNS} active runs × ${EVENTS.toLocaleString('en-US')} events, ${SCRAPES} scrapes of GET /metrics each:`);

  setActiveRunsSource(async () => runGaugeSamples((await Promise.all((await activeIds()).map(load))).filter((s) => s !== null), Date.now()));
  console.log(`  folding every active run per scrape:   ${await timeScrapes()}`);

  const latest = new LatestRuns(load);
  setActiveRunsSource(async () => runGaugeSamples(await latest.active(await activeIds()), Date.now()));
  console.log(`  from web's latest folds (as shipped): ${await timeScrapes()} (the first scrape after a start loads them)`);
} finally {
  setActiveRunsSource(null);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
