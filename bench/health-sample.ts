/**
 * Health watch benchmark (issue 8): what one look at PostgreSQL costs and
 * what it adds to the run's log. Prints, for a quiet database and for one
 * where N sessions queue behind a held table lock (plus idle sessions), the
 * latency of PostgresHealth.sample() (p50 / p95 / max over K samples), the
 * size of the step.health sample as JSON, and how many events an 8-hour step
 * sampled every 15 s records with the change-or-heartbeat rule.
 *
 *   npx tsx bench/health-sample.ts [waiters] [idle] [samples]   (default 20, 20, 50; DATABASE_URL or TEST_DATABASE_URL)
 *
 * Mind max_connections (100 by default): the bench opens waiters + idle + 3 connections.
 */
import pg from 'pg';
import { localDisk } from '../engine/health/disk.js';
import { HEALTH_APP } from '../engine/health/pg-health-sql.js';
import { PostgresHealth } from '../engine/health/pg-health.js';
import { sampleSignature, shouldReport } from '../engine/health/sampler.js';
import { assessHealth } from '../runbook/health-alert.js';
import type { DatabaseHealth, HealthSample } from '../runbook/health-sample.js';

const URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WAITERS = Number(process.argv[2] ?? 20);
const IDLE = Number(process.argv[3] ?? 20);
const SAMPLES = Number(process.argv[4] ?? 50);
const S = `bench_health_${process.pid}`;
const POLICY = { blockSeconds: 60, lockWaitSeconds: 60 };

async function timeSamples(health: PostgresHealth): Promise<{ p50: number; p95: number; max: number; last: DatabaseHealth }> {
  const times: number[] = [];
  let last: DatabaseHealth | null = null;
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    last = await health.sample();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  if (!last) throw new Error('no sample');
  return { p50: at(0.5), p95: at(0.95), max: times.at(-1) ?? 0, last };
}

const client = (app: string): pg.Client => new pg.Client({ connectionString: URL, application_name: app });

async function main(): Promise<void> {
  const admin = client('bench-admin');
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${S}; CREATE TABLE ${S}.t (id int PRIMARY KEY)`);
  const sampler = client(HEALTH_APP);
  const holder = client('psql');
  const others: pg.Client[] = [];
  try {
    await sampler.connect();
    const health = new PostgresHealth(sampler, { connection: 'target', longStatementSeconds: 600, disk: localDisk });
    const quiet = await timeSamples(health);

    for (let i = 0; i < IDLE; i++) others.push(client('app-idle'));
    await Promise.all(others.map((c) => c.connect()));
    await holder.connect();
    await holder.query(`BEGIN; LOCK TABLE ${S}.t IN ACCESS EXCLUSIVE MODE`);
    const waiters = Array.from({ length: WAITERS }, () => client('cutover'));
    await Promise.all(waiters.map((c) => c.connect()));
    others.push(...waiters);
    const pending = waiters.map((c) => c.query(`SELECT count(*) FROM ${S}.t`).catch(() => undefined));
    while (Number((await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${S}.t%'`)).rows[0]?.n) < WAITERS) await new Promise((r) => setTimeout(r, 50));
    const busy = await timeSamples(health);
    const sample: HealthSample = { at: Date.now(), databases: [busy.last], findings: assessHealth([busy.last], { blockSeconds: 0, lockWaitSeconds: 0 }), complete: true };
    await holder.query('COMMIT');
    await Promise.all(pending);

    // An 8-hour step sampled every 15 s: first a quiet database whose ages and free bytes move every sample,
    // then the same with a lock wait appearing and clearing every 10 minutes.
    const events = (blocked: (i: number) => boolean): number => {
      let last: { at: number; signature: string } | null = null;
      let n = 0;
      for (let i = 0; i < (8 * 3600) / 15; i++) {
        const db = blocked(i) ? { ...busy.last, waiting: busy.last.waiting.slice(0, 1).map((w) => ({ ...w, waitSeconds: (i % 40) * 15 })), waitingTotal: 1 } : { ...quiet.last, disk: quiet.last.disk?.map((v) => ({ ...v, freeBytes: v.freeBytes - i * 4096 })) ?? null };
        const s: HealthSample = { at: i * 15_000, databases: [db], findings: assessHealth([db], POLICY), complete: true };
        if (shouldReport(last, s, 60_000)) {
          n++;
          last = { at: s.at, signature: sampleSignature(s) };
        }
      }
      return n;
    };

    const ms = (x: number): string => `${x.toFixed(1)} ms`;
    console.log(`PostgresHealth.sample() over ${SAMPLES} samples (PostgreSQL at ${new globalThis.URL(URL).host}):`);
    console.log(`  quiet database:                   p50 ${ms(quiet.p50)}  p95 ${ms(quiet.p95)}  max ${ms(quiet.max)}`);
    console.log(`  ${WAITERS} lock waiters + ${IDLE} idle sessions: p50 ${ms(busy.p50)}  p95 ${ms(busy.p95)}  max ${ms(busy.max)}  (saw ${busy.last.waitingTotal} waiting, head pid ${busy.last.heads[0]?.session ?? '?'} blocking ${busy.last.heads[0]?.blocking ?? 0})`);
    console.log(`step.health sample as JSON with ${WAITERS} waiters: ${JSON.stringify(sample).length.toLocaleString('en-US')} bytes (keeps the 5 longest waits, their heads, 3 long statements)`);
    console.log(`events recorded for an 8-hour step sampled every 15 s (1,920 samples): quiet ${events(() => false)}; a lock wait every 10 min lasting 5 min ${events((i) => i % 40 < 20)}`);
  } finally {
    await Promise.all(others.map((c) => c.end().catch(() => undefined)));
    await holder.end().catch(() => undefined);
    await sampler.end().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await admin.end();
  }
}

await main();
