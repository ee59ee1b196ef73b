import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import type { FakeFile, FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const SCHEMA = `e2e_report_${process.pid}`;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Two SQL steps and a sign-off, with planned durations and a window, so the forecast and the report have figures. */
const runbook = `title: E2E report ${SCHEMA}
window: { start: "2024-01-01T00:00:00Z", end: "2099-01-01T00:00:00+01:00" }
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: load
    title: Load
    steps:
      - id: create
        title: Create report table
        approve: dba
        action: sql
        planned: 1m
        params: { connection: target, sql: "CREATE SCHEMA IF NOT EXISTS ${SCHEMA}; CREATE TABLE IF NOT EXISTS ${SCHEMA}.t (n int)" }
      - id: insert
        title: Insert report rows
        approve: dba
        action: sql
        planned: 2m
        params: { connection: target, sql: "INSERT INTO ${SCHEMA}.t VALUES (1), (2) RETURNING n" }
  - id: finish
    title: Finish
    steps:
      - id: signoff
        title: Lead signs off the report run
        approve: lead
        action: manual
        planned: 1m
rollback:
  pre-go-live: { title: Drop the table, approve: lead, planned: 15m }
`;

let fake: FakeSlack;
let inst: Installation;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

beforeAll(async () => {
  // U0DBA2 is unknown to Slack (users.info answers user_not_found): the report shows that one person by id.
  ({ fake, inst } = await startE2E({
    runbooks: { rep: runbook },
    slack: {
      users: {
        U0LEAD: { name: 'sabine', real_name: 'Sabine Krüger' },
        U0LEAD2: { name: 'tom', real_name: 'Tom Adler' },
        U0DBA1: { name: 'dana', real_name: 'Dana Berger' },
      },
    },
  }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

const filesOf = (runId: string): FakeFile[] => [...fake.files.values()].filter((f) => f.completed && f.filename.startsWith(runId));

/** Starts a run of `rep`, approves every step and waits until it is completed. */
async function completeRun(): Promise<string> {
  await migrate(inst.botUrl, 'U0LEAD', 'start rep');
  const runId = await eventually(() => inst.activeRunId('rep'));
  await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
  await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'awaiting_approval', 20_000);
  await click(fake, inst.botUrl, 'U0DBA2', 'insert', 'approve');
  await eventually(async () => (await inst.state(runId))?.steps['signoff']?.status === 'awaiting_approval', 20_000);
  await click(fake, inst.botUrl, 'U0LEAD2', 'signoff', 'approve');
  await eventually(async () => (await inst.state(runId))?.status === 'completed', 20_000, 'run completed');
  return runId;
}

describe('the cutover report', () => {
  let first = '';

  it('shows a go-live forecast on the root message while the run is on', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start rep');
    const root = await fake.waitFor(() => fake.messages.find('E2E report', { channel: CHANNEL }));
    await fake.waitFor(() => JSON.stringify(fake.messages.get(CHANNEL, root.ts)?.blocks ?? []).includes('Go-live forecast'));
    const text = JSON.stringify(fake.messages.get(CHANNEL, root.ts)?.blocks);
    expect(text).toContain('window ends');
    expect(text).toContain('rollback needs 15m');
    const runId = await inst.activeRunId('rep');
    await migrate(inst.botUrl, 'U0LEAD', `report ${runId}`);
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('is still active')));
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort rep making room for the report runs');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
    // An aborted run is reported too.
    await fake.waitFor(() => filesOf(runId).length === 3, 20_000);
  }, 60_000);

  it('when a run completes: a summary in its thread and the Markdown report, the JSON audit trail and the PNG timeline uploaded there', async () => {
    first = await completeRun();
    const root = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => m.threadTs === undefined && m.text.includes('E2E report') && m.versions.length > 0 && JSON.stringify(m.blocks).includes(first)));
    const files = await fake.waitFor(() => (filesOf(first).length === 3 ? filesOf(first) : undefined), 20_000);
    expect(files.map((f) => f.filename).sort()).toEqual([`${first}-audit.json`, `${first}-report.md`, `${first}-timeline.png`]);

    const png = files.find((f) => f.filename.endsWith('.png'))?.bytes ?? Buffer.alloc(0);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.readUInt32BE(16)).toBe(1200);
    expect(png.readUInt32BE(20)).toBe(120 + 28 * 3);
    const md = files.find((f) => f.filename.endsWith('.md'))?.bytes?.toString('utf8') ?? '';
    for (const title of ['Create report table', 'Insert report rows', 'Lead signs off the report run']) expect(md).toContain(title);
    expect(md).toContain('## Lessons learned');
    const audit = JSON.parse(files.find((f) => f.filename.endsWith('.json'))?.bytes?.toString('utf8') ?? '{}');
    expect(audit.events).toHaveLength((await inst.events(first)).length);
    expect(audit.events.filter((e: { type: string; user: string }) => e.type === 'step.approved').map((e: { user: string }) => e.user)).toEqual(['U0DBA1', 'U0DBA2', 'U0LEAD2']);
    // People by name (users.info), an id only where Slack knows no name (issue 16).
    expect(audit.events.filter((e: { type: string }) => e.type === 'step.approved').map((e: { userName: string | null }) => e.userName)).toEqual(['Dana Berger', null, 'Tom Adler']);
    expect(audit.people).toEqual({ U0LEAD: 'Sabine Krüger', U0DBA1: 'Dana Berger', U0DBA2: null, U0LEAD2: 'Tom Adler' });
    expect(md).toContain('started by Sabine Krüger');
    expect(md).toMatch(/\| Create report table \| Dana Berger \|/);
    expect(md).toMatch(/\| Insert report rows \| @U0DBA2 \|/);
    expect(md).not.toMatch(/@U0(LEAD|DBA1)\b/);

    const thread = fake.threadOf(CHANNEL, root.ts);
    expect(thread.find((m) => m.text.includes('Cutover report') && m.text.includes(first))).toBeDefined();
    expect(thread.filter((m) => m.files.length === 3)).toHaveLength(1);
    // The INSERT … RETURNING rows read as a table with the column's name, not a JSON array (issue 16).
    const table = '```' + ['n', '-', '1', '2'].join('\n') + '```';
    await fake.waitFor(() => fake.threadOf(CHANNEL, root.ts).find((m) => m.text.startsWith('Insert report rows') && JSON.stringify(m.blocks).includes(JSON.stringify(table).slice(1, -1))));
  }, 90_000);

  it('/migrate report <run> uploads the three files again, names from the cache; an unknown run is refused', async () => {
    const asked = (user: string) => fake.callsOf('users.info').filter((c) => c.args['user'] === user).length;
    const before = { known: asked('U0DBA1'), unknown: asked('U0DBA2') };
    await migrate(inst.botUrl, 'U0DBA1', `report ${first}`);
    await fake.waitFor(() => filesOf(first).length === 6, 20_000);
    // A known name is kept in the state backend with a TTL; an unknown one is asked again (never cached as missing).
    expect(asked('U0DBA1')).toBe(before.known);
    expect(asked('U0DBA2')).toBe(before.unknown + 1);
    await migrate(inst.botUrl, 'U0DBA1', 'report rep-nothing-like-it');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('There is no run `rep-nothing-like-it`')));
  }, 60_000);

  it('a second run is compared with the first in its summary, and /migrate compare shows both runs\' durations', async () => {
    const second = await completeRun();
    const summary = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => m.threadTs !== undefined && m.text.includes('Cutover report') && m.text.includes(second)), 20_000);
    expect(summary.text).toContain('Compared with run 2');
    expect(summary.text).toContain(first);

    await migrate(inst.botUrl, 'U0LEAD2', `compare ${second}`);
    const answer = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.includes('Compared with')));
    expect(answer).toMatch(new RegExp(`run 3 took \\d+s \\(completed\\), run 2 took \\d+s \\(completed\\)`));
    expect(answer).toContain('Insert report rows');

    await migrate(inst.botUrl, 'U0LEAD2', `compare ${first} ${second}`);
    const reverse = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.includes(`Compared with run 3`)));
    expect(reverse).toMatch(/run 2 took \d+s \(completed\), run 3 took \d+s/);
  }, 90_000);
});
