import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableMapping } from '../../engine/etl/contracts.js';
import type { SchemaModel } from '../../engine/schema/model.js';
import { SnapshotWriter } from '../../engine/snapshot/writer.js';
import { eventually, sleep, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import type { FakeMessage, FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 8, live health: a table locked by another session while a `load`
 * step runs. The real worker samples PostgreSQL, the real web process alerts
 * through the escalation path, the fake Slack counts what reached people.
 */
const SCHEMA = `e2e_health_${process.pid}`;
const INCIDENT = 'C0INCIDENT';
const ONCALL = 'U0ONCALLH';

const antrag: TableMapping = {
  source: { schema: 'dbo', name: 'Antrag' },
  target: { schema: SCHEMA, name: 'antrag' },
  columns: [
    { source: 'ID', target: 'id', sourceType: 'int', targetType: 'integer', kind: 'int', nullable: false, maxChars: null },
    { source: 'Name', target: 'name', sourceType: 'nvarchar', targetType: 'text', kind: 'text', nullable: true, maxChars: null },
  ],
  key: { columns: ['ID'], kind: 'integer' },
  rowCount: 3,
};
const model: SchemaModel = {
  sourceKind: 'mssql', database: 'KGV', serverVersion: '16.0', collation: 'SQL_Latin1_General_CP1_CI_AS', others: [],
  tables: [{
    schema: 'dbo', name: 'Antrag', rowCount: 3, uniques: [], indexes: [], foreignKeys: [], checks: [], primaryKey: { name: 'PK_Antrag', columns: ['ID'] },
    columns: antrag.columns.map((c, i) => ({ name: c.source, ordinal: i + 1, type: c.sourceType, maxLength: null, precision: null, scale: null, nullable: c.nullable, identity: null, defaultExpression: null, computed: null, collation: null, isRowVersion: false })),
  }],
};

function healthRunbook(dir: string): string {
  return `title: E2E health watch
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
contacts:
  - { role: dba, name: On-call DBA, slack: ${ONCALL} }
escalation: { next_tier: [lead], incident_channel: ${INCIDENT}, sweep: 1s }
health: { interval: 1s, block_threshold: 3s, lock_wait_threshold: 3s, long_statement: 10m }
phases:
  - id: load
    title: Load
    steps:
      - { id: load, title: Load the snapshot, approve: dba, action: load, params: { dir: "${dir}", target: target, bookkeeping_schema: ${SCHEMA}_etl } }
      - { id: signoff, title: Lead signs off, approve: lead, action: manual }
`;
}

let fake: FakeSlack;
let inst: Installation;
let dir: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-health-snapshot-'));
  const writer = new SnapshotWriter(dir);
  await writer.writeChunk(antrag, { id: 'r0', kind: 'range', column: 'ID', from: '0', to: '10', lastInclusive: true }, Readable.from([[1, 'Anna'], [2, 'Bernd'], [3, null]]), new AbortController().signal);
  await writer.finish(model, [antrag]);
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; DROP SCHEMA IF EXISTS ${SCHEMA}_etl CASCADE; CREATE SCHEMA ${SCHEMA}; CREATE TABLE ${SCHEMA}.antrag (id integer PRIMARY KEY, name text)`);
  ({ fake, inst } = await startE2E({ runbooks: { health: healthRunbook(dir) }, env: { ESCALATION_SWEEP_SECONDS: '1' } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; DROP SCHEMA IF EXISTS ${SCHEMA}_etl CASCADE`);
  await db.end();
  await rm(dir, { recursive: true, force: true });
});

const inThread = (root: FakeMessage, text: string): FakeMessage[] => fake.threadOf(CHANNEL, root.ts).filter((m) => m.text.includes(text));
const incident = (text: string): FakeMessage[] => fake.messages.inChannel(INCIDENT).filter((m) => m.text.includes(text));

describe('live health during a load', () => {
  it('a deliberately blocked table during a load raises one alert (and clears)', async () => {
    // Another session takes the target table and sits on it, as a forgotten psql would.
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL, application_name: 'psql' });
    await holder.connect();
    await holder.query(`BEGIN; LOCK TABLE ${SCHEMA}.antrag IN ACCESS EXCLUSIVE MODE`);
    const holderPid = Number((await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    let released = false;
    try {
      await migrate(inst.botUrl, 'U0LEAD', 'start health');
      const root = await fake.waitFor(() => fake.messages.inChannel(CHANNEL).find((m) => m.text.includes('E2E health watch')), 15_000);
      const runId = await inst.activeRunId('health');
      await click(fake, inst.botUrl, 'U0DBA1', 'load', 'approve');

      const alert = await fake.waitFor(() => inThread(root, '⛔ Blocked')[0], 20_000);
      expect(alert.text).toContain('"Load the snapshot" — target: pid');
      expect(alert.text).toContain(`blocked by pid ${holderPid} (psql · postgres`);
      expect(alert.text).toContain('idle in transaction');
      expect(alert.text).toContain('over the 3s block threshold');
      for (const who of [ONCALL, 'U0LEAD', 'U0LEAD2']) expect(alert.text).toContain(`<@${who}>`);
      await fake.waitFor(() => fake.messages.dmsTo(ONCALL)[0]);
      await fake.waitFor(() => incident('Blocked')[0]);
      // The step's own message shows the latest sample while it waits.
      const stepMessage = await fake.waitFor(() => fake.threadOf(CHANNEL, root.ts).find((m) => m.versions.some((v) => v.text.includes('Load the snapshot: running') && JSON.stringify(v.blocks).includes('Database health'))), 10_000);
      expect(JSON.stringify(stepMessage.versions.map((v) => v.blocks))).toContain(`← pid ${holderPid} (psql`);

      // Still blocked for several more samples and sweeps: the alert stays one.
      await sleep(4000);
      expect((await inst.state(runId))?.steps['load']?.status).toBe('running');
      expect(inThread(root, '⛔ Blocked')).toHaveLength(1);
      expect(fake.messages.dmsTo(ONCALL).filter((m) => m.text.includes('Blocked'))).toHaveLength(1);
      expect(incident('Blocked')).toHaveLength(1);

      await holder.query('COMMIT');
      released = true;
      await eventually(async () => (await inst.state(runId))?.steps['load']?.status === 'succeeded', 20_000, 'load finished');
      const cleared = await fake.waitFor(() => inThread(root, '✅ Block cleared')[0], 15_000);
      // Whichever came first, a calm sample or the step's end, the notice says the wait is over.
      expect(cleared.text).toMatch(/"Load the snapshot(": the wait on target cleared|" got past its wait on target and finished) \(over threshold for \d+s, longest wait \d+s\)/);
      expect(cleared.text).not.toContain('<@');
      await fake.waitFor(() => fake.messages.dmsTo(ONCALL).find((m) => m.text.includes('Block cleared')));
      await fake.waitFor(() => incident('Block cleared')[0]);
      expect(Number((await db.query(`SELECT count(*) AS n FROM ${SCHEMA}.antrag`)).rows[0]?.n)).toBe(3);

      // Nothing more after the clearing: one alert, one cleared notice, each recorded once.
      await sleep(3000);
      expect(inThread(root, '⛔ Blocked')).toHaveLength(1);
      expect(inThread(root, '✅ Block cleared')).toHaveLength(1);
      expect(fake.messages.dmsTo(ONCALL).map((m) => /^(⛔ Blocked|✅ Block cleared) \(E2E health watch/.exec(m.text)?.[1])).toEqual(['⛔ Blocked', '✅ Block cleared']);
      expect(incident('Blocked')).toHaveLength(1);
      const sent = (await inst.events(runId)).flatMap((e) => (e.type === 'escalation.sent' ? [`${e.stepId}:${e.level}:${e.episode}`] : []));
      expect(sent).toEqual(['load:blocked:1', 'load:unblocked:1']);
      const samples = (await inst.events(runId)).filter((e) => e.type === 'step.health');
      expect(samples.length).toBeGreaterThanOrEqual(2);
      await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort health done');
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }, 90_000);
});
