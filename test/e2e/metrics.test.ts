/**
 * GET /metrics of the real web and worker processes, scraped before, during
 * and after a run through the fake Slack: a sql step, a load of a snapshot
 * into PostgreSQL (with rows quarantined at extract and by PostgreSQL), a
 * validate.counts and a manual sign-off, with a reminder sent and a 429
 * from Slack on the way.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnMapping, SourceRow, TableMapping } from '../../engine/etl/contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { SnapshotWriter } from '../../engine/snapshot/writer.js';
import { eventually, freePort, ProductProcess, REPO, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, migrate } from '../support/cutover-slack.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { scrape, type Exposition } from '../support/prometheus.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const S = `e2e_metrics_${process.pid}`;
const TABLE = `${S}.antrag`;
const ROWS = 3000;
/** Refused by the extract's encoder (NUL in text): quarantined in the snapshot, booked by the load. */
const NUL_ROWS = new Set([17, 2018]);
/** Longer than the target's varchar(20): PostgreSQL refuses it, the load quarantines it. */
const LONG_ROW = 1500;

let fake: FakeSlack;
let inst: Installation;
let snapshotDir: string;
let workerUrl: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const column = (source: string, kind: ColumnMapping['kind'], type: string, nullable: boolean): ColumnMapping => ({
  source, target: source.toLowerCase(), sourceType: type, targetType: type, kind, nullable, maxChars: null,
});
const antrag: TableMapping = {
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: S, name: 'antrag' },
  columns: [column('ID', 'int', 'integer', false), column('Name', 'text', 'text', true)],
  key: { columns: ['ID'], kind: 'integer' },
  rowCount: ROWS,
};
const schema: SchemaModel = {
  sourceKind: 'mssql', database: 'KGV', serverVersion: '16.0', collation: 'SQL_Latin1_General_CP1_CI_AS', others: [],
  tables: [{
    schema: 'dbo', name: 'Antrag', rowCount: ROWS, primaryKey: { name: 'PK_Antrag', columns: ['ID'] }, uniques: [], indexes: [], foreignKeys: [], checks: [],
    columns: antrag.columns.map((c, i) => ({
      name: c.source, ordinal: i + 1, type: c.sourceType, maxLength: null, precision: null, scale: null, nullable: c.nullable,
      identity: null, defaultExpression: null, computed: null, collation: null, isRowVersion: false,
    })),
  }],
};
const row = (i: number): SourceRow => [i, NUL_ROWS.has(i) ? `kaputt\u0000${i}` : i === LONG_ROW ? 'x'.repeat(30) : `Antrag ${i}`];

async function writeSnapshot(dir: string): Promise<void> {
  const writer = new SnapshotWriter(dir);
  const signal = new AbortController().signal;
  for (let k = 0; k < 3; k++) {
    const from = k * 1000;
    const chunk = { id: `r${k}`, kind: 'range' as const, column: 'ID', from: String(from), to: String(from + 1000), lastInclusive: k === 2 };
    await writer.writeChunk(antrag, chunk, Readable.from(Array.from({ length: 1000 }, (_, j) => row(from + j))), signal);
  }
  await writer.finish(schema, [antrag]);
}

const runbook = (dir: string): string => `title: E2E metrics ${S}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
escalation: { remind_after: 2s, escalate_after: 1h, sweep: 1s }
phases:
  - id: prepare
    title: Prepare
    steps:
      - id: create
        title: Create the target table
        approve: dba
        action: sql
        params:
          connection: target
          sql: |
            DROP SCHEMA IF EXISTS ${S} CASCADE;
            CREATE SCHEMA ${S};
            CREATE TABLE ${TABLE} (id integer PRIMARY KEY, name varchar(20));
  - id: copy
    title: Copy
    steps:
      - { id: load, title: Load the snapshot, approve: dba, action: load, params: { dir: "${dir}", target: target } }
      - { id: counts, title: Count the rows, approve: dba, action: validate.counts, params: { snapshot: "${dir}", target: target, load_step: load } }
  - id: finish
    title: Finish
    steps:
      - { id: signoff, title: Lead signs off, approve: lead, action: manual }
`;

const web = (): Promise<Exposition> => scrape(inst.botUrl);
const worker = (): Promise<Exposition> => scrape(workerUrl);
const stepStatus = async (runId: string, stepId: string): Promise<string | undefined> => (await inst.state(runId))?.steps[stepId]?.status;
const L = { runbook: 'metrics' };

beforeAll(async () => {
  snapshotDir = await mkdtemp(join(tmpdir(), 'cutover-metrics-snapshot-'));
  await writeSnapshot(snapshotDir);
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  ({ fake, inst } = await startE2E({ runbooks: { metrics: runbook(snapshotDir) }, env: { ESCALATION_SWEEP_SECONDS: '1' }, worker: { WORKER_METRICS_PORT: String(port) } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await db.end();
  if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
});

describe('GET /metrics on web (PORT) and worker (WORKER_METRICS_PORT)', () => {
  it('both answer in the Prometheus text format, with the process metrics and every cutover_ family declared', async () => {
    for (const m of [await web(), await worker()]) {
      expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(m.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
      expect(m.family('cutover_runs')?.type).toBe('gauge');
      expect(m.family('cutover_step_duration_seconds')?.type).toBe('histogram');
      expect(m.family('cutover_etl_rows_copied_total')?.type).toBe('counter');
      expect(m.family('cutover_slack_rate_limited_total')?.help).toContain('429');
    }
    // Nothing ran yet: no run, nothing waiting.
    expect((await web()).value('cutover_runs', L)).toBeUndefined();
  });

  it('its counters and gauges move as a run proceeds, each in the process where it happened', async () => {
    const [web0, worker0] = [await web(), await worker()];
    // The run's first message meets a 429: the client waits a second and posts it anyway.
    fake.rateLimit('chat.postMessage', 1, 1);
    await migrate(inst.botUrl, 'U0LEAD', 'start metrics');
    const runId = await eventually(() => inst.activeRunId('metrics'));

    // Started by web: web counts it and, folding the active run at scrape time, shows it waiting for a DBA.
    const waiting = await eventually(async () => {
      const m = await web();
      return m.value('cutover_approvals_waiting', { ...L, role: 'dba' }) === 1 && m;
    }, 10_000, 'an approval waiting on /metrics');
    expect(waiting.value('cutover_runs', { ...L, status: 'active', dry_run: 'false' })).toBe(1);
    expect(waiting.value('cutover_approvals_waiting', { ...L, role: 'lead' })).toBe(0);
    expect(waiting.count('cutover_runs_started_total', L) - web0.count('cutover_runs_started_total', L)).toBe(1);
    expect(waiting.value('cutover_steps', { ...L, status: 'pending' })).toBe(3);

    // Nobody approves for two seconds: web's sweep sends a reminder, and the oldest wait has aged.
    const reminded = await eventually(async () => {
      const m = await web();
      return m.count('cutover_escalations_sent_total', { ...L, level: 'reminder' }) > web0.count('cutover_escalations_sent_total', { ...L, level: 'reminder' }) && m;
    }, 15_000, 'a reminder counted');
    expect(reminded.value('cutover_approval_oldest_wait_seconds', { ...L, role: 'dba' })).toBeGreaterThanOrEqual(2);
    await fake.waitFor(() => fake.messages.inChannel(CHANNEL).some((m) => m.text.includes(S)));
    const slack = await web();
    expect(slack.count('cutover_slack_rate_limited_total', { method: 'chat.postMessage' }) - web0.count('cutover_slack_rate_limited_total', { method: 'chat.postMessage' })).toBe(1);
    expect(slack.count('cutover_slack_rate_limit_wait_seconds_total', { method: 'chat.postMessage' })).toBeGreaterThanOrEqual(1);
    expect(slack.count('cutover_slack_api_calls_total', { method: 'chat.postMessage' })).toBeGreaterThan(web0.count('cutover_slack_api_calls_total', { method: 'chat.postMessage' }));

    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await stepStatus(runId, 'create')) === 'succeeded', 20_000, 'create succeeded');
    const afterSql = await worker();
    const sql = { ...L, action: 'sql', outcome: 'succeeded' };
    expect(afterSql.histogram('cutover_step_duration_seconds', sql).count - worker0.histogram('cutover_step_duration_seconds', sql).count).toBe(1);

    await click(fake, inst.botUrl, 'U0DBA2', 'load', 'approve');
    await eventually(async () => (await stepStatus(runId, 'load')) === 'succeeded', 30_000, 'load succeeded');
    const afterLoad = await worker();
    const table = { ...L, table: TABLE };
    expect(afterLoad.count('cutover_etl_rows_copied_total', table) - worker0.count('cutover_etl_rows_copied_total', table)).toBe(ROWS - 3);
    expect(afterLoad.count('cutover_etl_rows_quarantined_total', table) - worker0.count('cutover_etl_rows_quarantined_total', table)).toBe(3);
    expect(afterLoad.value('cutover_etl_table_rows_per_second', table)).toBeGreaterThan(0);
    expect(afterLoad.histogram('cutover_step_duration_seconds', { ...L, action: 'load', outcome: 'succeeded' }).count).toBe(1);

    await click(fake, inst.botUrl, 'U0DBA1', 'counts', 'approve');
    await eventually(async () => (await stepStatus(runId, 'counts')) === 'succeeded', 20_000, 'counts succeeded');
    const verdicts = await worker();
    const green = { ...L, check: 'counts', verdict: 'green' };
    expect(verdicts.count('cutover_validation_verdicts_total', green) - worker0.count('cutover_validation_verdicts_total', green)).toBe(1);
    // During the run, web shows where it stands: three steps done, the sign-off waiting, the verdict green.
    const during = await eventually(async () => {
      const m = await web();
      return m.value('cutover_approvals_waiting', { ...L, role: 'lead' }) === 1 && m;
    }, 10_000, 'the sign-off waiting');
    expect(during.value('cutover_steps', { ...L, status: 'succeeded' })).toBe(3);
    expect(during.value('cutover_validation_verdict', { ...L, step: 'counts', verdict: 'green' })).toBe(1);
    // The worker never exports run gauges (web does), so summing over processes counts each run once.
    expect(verdicts.value('cutover_runs')).toBeUndefined();

    await click(fake, inst.botUrl, 'U0LEAD2', 'signoff', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed', 20_000, 'run completed');
    const after = await eventually(async () => {
      const m = await web();
      return m.value('cutover_runs', L) === undefined && m;
    }, 10_000, 'the finished run gone from the gauges');
    expect(after.count('cutover_runs_finished_total', { ...L, status: 'completed' }) - web0.count('cutover_runs_finished_total', { ...L, status: 'completed' })).toBe(1);
    expect(after.value('cutover_approvals_waiting', L)).toBeUndefined();
    // Four approvals waited: three by DBAs (web appended them), the sign-off by the lead.
    expect(after.histogram('cutover_approval_wait_seconds', { ...L, role: 'dba' }).count - web0.histogram('cutover_approval_wait_seconds', { ...L, role: 'dba' }).count).toBe(3);
    expect(after.histogram('cutover_approval_wait_seconds', { ...L, role: 'lead' }).count - web0.histogram('cutover_approval_wait_seconds', { ...L, role: 'lead' }).count).toBe(1);
    // Labels stay bounded: no run id and no user id anywhere in either answer.
    for (const text of [await (await fetch(`${inst.botUrl}/metrics`)).text(), await (await fetch(`${workerUrl}/metrics`)).text()]) {
      expect(text).not.toContain(runId);
      expect(text).not.toMatch(/U0(LEAD|DBA)/);
    }
  }, 120_000);
});

describe('npm start (web and worker in one process)', () => {
  const refused = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });

  it('serves its one registry on PORT only: the worker opens no port of its own', async () => {
    const [port, workerPort] = [await freePort(), await freePort()];
    const env = { ...inst.env, PORT: String(port), WORKER_METRICS_PORT: String(workerPort), REDIS_PREFIX: `${inst.prefix}-both` };
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/web.ts', '--with-worker'], { cwd: REPO, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const both = new ProductProcess('web+worker', child);
    try {
      await both.waitForLog('web ready');
      expect(both.output.find((l) => l.includes('worker ready'))).toContain('"metricsPort":null');
      const m = await scrape(`http://127.0.0.1:${port}`);
      expect(m.family('cutover_etl_rows_copied_total')?.type).toBe('counter');
      expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect(await refused(workerPort)).toBe(true);
    } finally {
      await both.kill('SIGTERM');
      const keys = await inst.redis.keys(`${inst.prefix}-both:*`);
      if (keys.length) await inst.redis.del(...keys);
    }
  }, 60_000);
});
