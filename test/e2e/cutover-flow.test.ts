import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed, stepMessage } from '../support/cutover-slack.js';
import { markerRunbook } from '../support/e2e-runbooks.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { deliver, sendSlashCommand } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const schemas = ['e2e_main', 'e2e_retry', 'e2e_race', 'e2e_restart'].map((s) => `${s}_${process.pid}`);
const [MAIN, RETRY, RACE, RESTART] = schemas as [string, string, string, string];

let fake: FakeSlack;
let inst: Installation;
let web: ProductProcess;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const markerRows = async (schema: string): Promise<number> =>
  Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.applied WHERE step = 'insert'`)).rows[0]?.n);

beforeAll(async () => {
  ({ fake, inst, web } = await startE2E({ runbooks: { main: markerRunbook(MAIN), retry: markerRunbook(RETRY), race: markerRunbook(RACE), restart: markerRunbook(RESTART) } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.end();
});

describe('Slack request signatures', () => {
  it('refuses a forged signature, a stale timestamp and a missing signature with 401, and runs nothing', async () => {
    const forged = await sendSlashCommand(inst.botUrl, 'not-the-secret', { userId: 'U0LEAD', channelId: CHANNEL, text: 'start main' });
    const stale = await migrate(inst.botUrl, 'U0LEAD', 'start main', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = await migrate(inst.botUrl, 'U0LEAD', 'start main', { omitSignature: true });
    expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(await inst.store.active()).toEqual([]);
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${inst.botUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });
});

describe('a run from start to finish', () => {
  it('start → outsider refused → member approves → worker runs SQL → result in the thread → run completes', async () => {
    const started = await migrate(inst.botUrl, 'U0LEAD', 'start main');
    expect(started.status).toBe(200);
    const root = await fake.waitFor(() => fake.messages.find('E2E cutover', { channel: CHANNEL }));
    expect(root.threadTs).toBeUndefined();
    const runId = await inst.activeRunId('main');

    // U0OUT is in no role: refused ephemerally, nothing queued.
    await click(fake, inst.botUrl, 'U0OUT', 'create', 'approve');
    const refusal = await fake.waitFor(() => ephemeralTexts(fake, 'U0OUT').find((t) => t.includes('not in the role')));
    expect(refusal).toContain('Database administrator');
    expect((await inst.state(runId))?.steps['create']?.status).toBe('awaiting_approval');

    // The lead started the run; the lead is not a DBA either.
    await click(fake, inst.botUrl, 'U0LEAD', 'create', 'approve');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('not in the role')));

    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await click(fake, inst.botUrl, 'U0DBA2', 'insert', 'approve');
    const result = await fake.waitFor(() => fake.messages.find('Result:', { channel: CHANNEL, threadTs: root.ts }) && fake.messages.findAll('Result:', { channel: CHANNEL, threadTs: root.ts }).find((m) => m.text.includes('Insert marker row')), 20_000);
    expect(result.threadTs).toBe(root.ts);
    expect(await markerRows(MAIN)).toBe(1);

    // The requester may approve the lead's manual step? No: separation of duties.
    await click(fake, inst.botUrl, 'U0LEAD', 'signoff', 'approve');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('separation of duties')));
    const state = await inst.state(runId);
    expect(state?.steps['signoff']?.status).toBe('awaiting_approval');
    const insert = state?.steps['insert'];
    expect(insert?.status).toBe('succeeded');
    for (const t of [insert?.requestedAt, insert?.approvedAt, insert?.startedAt, insert?.finishedAt]) expect(typeof t).toBe('number');
    expect(insert?.approvals.map((a) => a.by)).toEqual(['U0DBA2']);

    // The root message was edited in place, never posted twice.
    expect(fake.messages.inChannel(CHANNEL).filter((m) => m.text.includes('E2E cutover') && m.text.includes(MAIN))).toHaveLength(1);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort main tests are done');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
  }, 60_000);

  it('executes once when Slack delivers the same click twice (X-Slack-Retry-Num)', async () => {
    await migrate(inst.botUrl, 'U0DBA1', 'start retry');
    const runId = await eventually(() => inst.activeRunId('retry'));
    await click(fake, inst.botUrl, 'U0DBA2', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'awaiting_approval');

    const first = await click(fake, inst.botUrl, 'U0DBA2', 'insert', 'approve', { actionTs: '1732190000.123456' });
    const again = await deliver(inst.botUrl, process.env.UNUSED ?? 'e2e-signing-secret-0123456789', first.sent.rawBody, { retryNum: 1 });
    const third = await deliver(inst.botUrl, 'e2e-signing-secret-0123456789', first.sent.rawBody, { retryNum: 2 });
    expect([first.status, again.status, third.status]).toEqual([200, 200, 200]);
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'succeeded', 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await markerRows(RETRY)).toBe(1);
    const approvals = (await inst.events(runId)).filter((e) => e.type === 'step.approved' && e.stepId === 'insert');
    expect(approvals).toHaveLength(1);
    // A retried delivery is dropped silently: the clicker is not told "already approved" for their own single click.
    expect(ephemeralTexts(fake, 'U0DBA2').filter((t) => t.includes('already approved'))).toHaveLength(0);
  }, 60_000);

  it('executes once when two members click Approve at the same instant', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start race');
    const runId = await eventually(() => inst.activeRunId('race'));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'awaiting_approval');
    const found = await fake.waitFor(() => stepMessage(fake, 'insert', 'approve'));
    expect(found.value).toContain(runId);

    const clicks = await Promise.all([click(fake, inst.botUrl, 'U0DBA1', 'insert', 'approve'), click(fake, inst.botUrl, 'U0DBA2', 'insert', 'approve')]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'succeeded', 20_000);
    expect(await markerRows(RACE)).toBe(1);
    const approvals = (await inst.events(runId)).filter((e) => e.type === 'step.approved' && e.stepId === 'insert');
    const queued = (await inst.events(runId)).filter((e) => e.type === 'step.queued' && e.stepId === 'insert');
    expect(approvals).toHaveLength(1);
    expect(queued).toHaveLength(1);
    const loser = approvals[0]?.type === 'step.approved' && approvals[0].by === 'U0DBA1' ? 'U0DBA2' : 'U0DBA1';
    await fake.waitFor(() => ephemeralTexts(fake, loser).find((t) => t.includes('already approved')));
  }, 60_000);
});

describe('process crashes', () => {
  it('resumes a run after web is killed mid-run and started again', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start restart');
    const runId = await eventually(() => inst.activeRunId('restart'));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'awaiting_approval');
    const rootsBefore = fake.messages.inChannel(CHANNEL).filter((m) => m.text.includes(RESTART)).length;

    await web.kill('SIGKILL');
    web = await inst.startWeb();
    await click(fake, inst.botUrl, 'U0DBA2', 'insert', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['insert']?.status === 'succeeded', 20_000);
    expect(await markerRows(RESTART)).toBe(1);
    // The restarted web edits the same root message rather than posting a new one.
    await fake.waitFor(() => fake.messages.find('Insert marker row', { channel: CHANNEL })?.text.includes('done'));
    expect(fake.messages.inChannel(CHANNEL).filter((m) => m.text.includes(RESTART))).toHaveLength(rootsBefore);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort restart done');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
  }, 90_000);
});
