import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../../engine/connections.js';
import { localDisk } from '../../engine/health/disk.js';
import { HEALTH_APP } from '../../engine/health/pg-health-sql.js';
import { PostgresHealth } from '../../engine/health/pg-health.js';
import { startStepHealth } from '../../engine/health/step-health.js';
import { ACTIONS } from '../../runbook/action-catalog.js';
import type { HealthSample } from '../../runbook/health-sample.js';
import { POLICY } from '../support/health-fixture.js';
import { TEST_DATABASE_URL } from '../support/engine-context.js';
import { eventually } from '../support/cutover-processes.js';

const S = `health_${process.pid}`;
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });

/** A session that takes the table's ACCESS EXCLUSIVE lock and sits idle in its transaction, as a forgotten psql would. */
async function holdLock(): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'psql' });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${S}.antrag IN ACCESS EXCLUSIVE MODE`);
  const pid = Number((await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  return { pid, release: async () => { await holder.query('COMMIT'); await holder.end(); } };
}

/** A cutover session (application_name "cutover", like the step's pools) that queues behind the lock. */
async function blockedReader(): Promise<{ pid: number; done: Promise<unknown>; end: () => Promise<void> }> {
  const reader = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'cutover' });
  await reader.connect();
  const pid = Number((await reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  const done = reader.query(`SELECT count(*) FROM ${S}.antrag WHERE name = 'Müller'`);
  await eventually(async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount === 1, 5000, 'reader waiting');
  return { pid, done, end: () => reader.end() };
}

beforeAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.antrag (id int PRIMARY KEY, name text)`);
});

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await admin.end();
});

describe('PostgresHealth against a real server', () => {
  it('names the blocked cutover session, the idle-in-transaction head blocker and the wait; disk free matches df', async () => {
    const lock = await holdLock();
    const reader = await blockedReader();
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: HEALTH_APP });
    await client.connect();
    try {
      const health = new PostgresHealth(client, { connection: 'target', longStatementSeconds: 3600, disk: localDisk });
      const sample = await health.sample();
      expect(sample.error).toBeNull();
      const waiter = sample.waiting.find((w) => w.session === reader.pid);
      expect(waiter).toMatchObject({ ours: true, lockWait: true, waitType: 'Lock:relation', blockedBy: [lock.pid], headBlocker: lock.pid });
      expect(waiter?.statement).toBe(`SELECT count(*) FROM ${S}.antrag WHERE name = '…'`);
      expect(waiter?.waitSeconds).toBeGreaterThanOrEqual(0);
      expect(sample.heads.find((h) => h.session === lock.pid)).toMatchObject({ ours: false, state: 'idle in transaction', blocking: 1 });
      expect(sample.heads.find((h) => h.session === lock.pid)?.statement).toContain('SELECT pg_backend_pid()');
      // The sampler's own connection is never a waiter or a blocker.
      expect(sample.waiting.some((w) => w.who.startsWith(HEALTH_APP))).toBe(false);
      expect(sample.deadlocks).toBe(0);
      expect(sample.replication).toBeNull();

      const dataDir = String((await admin.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`)).rows[0]?.d);
      const volume = sample.disk?.find((v) => v.tablespaces.includes('pg_default'));
      expect(volume?.path).toBe(dataDir);
      const { stdout } = await promisify(execFile)('df', ['-B1', '--output=avail,size', dataDir]);
      const [avail, size] = (stdout.trim().split('\n')[1] ?? '').trim().split(/\s+/).map(Number);
      expect(volume?.totalBytes).toBe(size);
      expect(Math.abs((volume?.freeBytes ?? 0) - (avail ?? 0))).toBeLessThan((size ?? 0) * 0.01);
      const pgDefault = Number((await admin.query<{ b: string }>(`SELECT pg_tablespace_size('pg_default') AS b`)).rows[0]?.b);
      expect(Math.abs((volume?.tablespaceBytes ?? 0) - pgDefault)).toBeLessThan(pgDefault * 0.05 + 1_000_000);
    } finally {
      await lock.release();
      await reader.done;
      await reader.end();
      await client.end();
    }
  });
});

describe('the step watch on its own connection', () => {
  it('samples while the step runs, alerts past the threshold, shows the clearing, and leaves no connection behind', async () => {
    const connections = new ConnectionRegistry({ target: { kind: 'postgres', url: TEST_DATABASE_URL } });
    const step = new AbortController();
    const reports: HealthSample[] = [];
    const watch = startStepHealth({
      spec: ACTIONS['load'] as never,
      params: { dir: '/tmp/none', target: 'target' },
      policy: { ...POLICY, intervalSeconds: 1, blockSeconds: 1, lockWaitSeconds: 1 },
      connections, signal: step.signal, log: pino({ level: 'silent' }),
      report: async (s) => void reports.push(s),
    });
    const lock = await holdLock();
    const reader = await blockedReader();
    try {
      const alerted = await eventually(async () => reports.find((r) => r.findings.length > 0), 10_000, 'a finding');
      expect(alerted.findings[0]).toMatchObject({ kind: 'blocking', connection: 'target', session: reader.pid, ours: true });
      expect(alerted.findings[0]?.text).toContain(`blocked by pid ${lock.pid} (psql · postgres`);
      expect(await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [HEALTH_APP]).then((r) => r.rowCount)).toBe(1);
      await lock.release();
      await reader.done;
      const n = reports.length;
      await eventually(async () => reports.slice(n).find((r) => r.findings.length === 0 && r.complete && r.databases[0]?.waitingTotal === 0), 10_000, 'a calm sample');
    } finally {
      await reader.end();
      step.abort();
      await watch.stop();
      await connections.close();
    }
    await eventually(async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [HEALTH_APP])).rowCount === 0, 5000, 'sampler connection closed');
    const after = reports.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(reports.length).toBe(after);
  });

  it('does nothing for actions that are not long database work, or when the runbook switches it off', async () => {
    const connections = new ConnectionRegistry({ target: { kind: 'postgres', url: TEST_DATABASE_URL } });
    const seen: Record<string, number> = { load: 0, sql: 0, off: 0 };
    const watch = (name: string, action: string, enabled: boolean) =>
      startStepHealth({
        connections, signal: new AbortController().signal, log: pino({ level: 'silent' }),
        spec: ACTIONS[action] as never, params: { connection: 'target', target: 'target' },
        policy: { ...POLICY, intervalSeconds: 1, enabled },
        report: async () => void (seen[name] = (seen[name] ?? 0) + 1),
      });
    const watches = [watch('load', 'load', true), watch('sql', 'sql', true), watch('off', 'load', false)];
    // The watched load is the control: once it reported (and another interval passed), the others had the time to.
    await eventually(async () => (seen['load'] ?? 0) >= 1, 10_000, 'the load watch reporting');
    await new Promise((r) => setTimeout(r, 1200));
    await Promise.all(watches.map((w) => w.stop()));
    expect(seen).toMatchObject({ sql: 0, off: 0 });
    await connections.close();
  });
});
