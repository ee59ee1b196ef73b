import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed, stepMessage } from '../support/cutover-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { SIGNING_SECRET } from '../support/cutover-processes.js';
import { markerRunbook } from '../support/e2e-runbooks.js';
import { buttonsIn, type FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const DRY = `e2e_dry_${process.pid}`;
const PAUSE = `e2e_pause_${process.pid}`;
const DAMAGED = `e2e_damaged_${process.pid}`;
const AFTER = `e2e_after_${process.pid}`;
let fake: FakeSlack;
let web: ProductProcess;
let inst: Installation;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

const BROKEN = `title: Broken
roles:
  dba: { title: DBA, members: [U0DBA1] }
phases:
  - id: one
    title: One
    steps:
      - { id: a, title: A, approve: dbx, action: manual }
`;

beforeAll(async () => {
  ({ fake, inst, web } = await startE2E({
    runbooks: {
      dry: markerRunbook(DRY),
      pausing: markerRunbook(PAUSE),
      broken: BROKEN,
      damaged: markerRunbook(DAMAGED),
      after: markerRunbook(AFTER),
    },
  }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  for (const s of [DRY, PAUSE, DAMAGED, AFTER]) await db.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await db.end();
});

describe('/migrate commands', () => {
  it('answers unknown input with help, only to the person who typed it', async () => {
    await migrate(inst.botUrl, 'U0OUT', 'frobnicate now');
    const text = await fake.waitFor(() => ephemeralTexts(fake, 'U0OUT').find((t) => t.includes('frobnicate')));
    expect(text).toContain('/migrate start <runbook>');
    expect(fake.messages.inChannel(CHANNEL)).toHaveLength(0);
  });

  it('lists runbooks with the load errors of a broken one (file, path, expectation), and refuses to start it', async () => {
    await migrate(inst.botUrl, 'U0DBA1', 'runbooks');
    const list = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('broken')));
    expect(list).toContain('`dry`');
    expect(list).toMatch(/broken\.yaml: phases\[0\]\.steps\[0\]\.approve: approving role "dbx" is not a declared role/);
    await migrate(inst.botUrl, 'U0DBA1', 'start broken');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('cannot start')));
    expect(await inst.store.active()).toEqual([]);
  });

  it('runs a dry run: SQL executes in a transaction that is rolled back, so the target is untouched', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start dry --dry-run');
    const runId = await eventually(() => inst.activeRunId('dry'));
    await fake.waitFor(() => fake.messages.find('(dry run)', { channel: CHANNEL }));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['create']?.status === 'succeeded', 20_000);
    const schema = await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [DRY]);
    expect(schema.rowCount).toBe(0);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort dry done');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
  }, 40_000);

  it('pause is told in the thread and to the person; step messages then say so instead of offering Approve, and a stale Approve is refused in the thread; resume lets it through (issue 13)', async () => {
    // Slack rate-limits the first post of this run: the client waits out Retry-After and the root still appears once.
    fake.rateLimit('chat.postMessage', 1, 1);
    await migrate(inst.botUrl, 'U0LEAD', 'start pausing');
    const runId = await eventually(() => inst.activeRunId('pausing'));
    const root = await fake.waitFor(() => fake.messages.find(PAUSE, { channel: CHANNEL }), 15_000);
    expect(fake.calls.some((c) => c.method === 'chat.postMessage' && c.status === 429)).toBe(true);
    // The Approve button as it was before the pause, as a person with a stale screen would click it.
    const stale = await fake.waitFor(() => stepMessage(fake, 'create', 'approve'));

    await migrate(inst.botUrl, 'U0DBA2', 'pause pausing waiting for the app team');
    await eventually(async () => (await inst.state(runId))?.status === 'paused');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.startsWith('⏸️ Done: the run is paused')));
    const told = await fake.waitFor(() => fake.messages.find('Run paused', { channel: CHANNEL, threadTs: root.ts }));
    expect(told.text).toContain('by <@U0DBA2>');
    expect(told.text).toContain('waiting for the app team');
    await migrate(inst.botUrl, 'U0DBA1', 'pause pausing again');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('already paused')));

    // The step's message now says the run is paused and offers no Approve.
    const paused = await fake.waitFor(() => {
      const m = fake.messages.get(CHANNEL, stale.message.ts);
      return m && JSON.stringify(m.blocks).includes('The run is paused') ? m : undefined;
    });
    expect(JSON.stringify(paused.blocks)).not.toContain('step.approve');
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: 'U0DBA1', channelId: CHANNEL, messageTs: stale.message.ts, threadTs: stale.message.threadTs, actionId: 'step.approve', blockId: stale.blockId, value: stale.value,
    });
    const refusal = await fake.waitFor(() => fake.ephemeralsFor('U0DBA1').find((e) => e.text.includes('is paused by')));
    expect(refusal.text).toContain('<@U0DBA2>');
    // A click made in the thread is answered in the thread, where the person is looking.
    expect(refusal.threadTs).toBe(root.ts);
    expect((await inst.state(runId))?.steps['create']?.status).toBe('awaiting_approval');

    await migrate(inst.botUrl, 'U0LEAD', 'resume pausing');
    await eventually(async () => (await inst.state(runId))?.status === 'active');
    await fake.waitFor(() => fake.messages.find('Run resumed', { channel: CHANNEL, threadTs: root.ts }));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['create']?.status === 'succeeded', 20_000);
    expect(fake.messages.inChannel(CHANNEL).filter((m) => m.text.includes(PAUSE))).toHaveLength(1);
  }, 60_000);

  it('stops a run whose history holds a damaged event: /migrate status names the run, the stream entry and the field, web logs it, and other runs go on (issue 12)', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start damaged');
    const runId = await eventually(() => inst.activeRunId('damaged'));
    await fake.waitFor(() => fake.messages.find(DAMAGED, { channel: CHANNEL }));
    // As a bad restore or a hand edit might leave it: an approval whose attempt is text.
    const entry = await inst.redis.xadd(`${inst.prefix}:run:${runId}:events`, '*', 'e', '{"type":"step.approved","at":1,"stepId":"create","attempt":"1","by":"U0DBA1"}');

    await migrate(inst.botUrl, 'U0DBA2', 'status');
    const status = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('is stopped')));
    expect(status).toContain(`Run ${runId} is stopped`);
    expect(status).toContain(`stream entry ${entry}`);
    expect(status).toContain('field `attempt`');
    await web.waitForLog('run stopped: its history cannot be read', 20_000);
    expect(web.output.find((l) => l.includes('run stopped'))).toContain(entry ?? 'no entry id');

    // Web still answers and another run is approved and executed as usual.
    await migrate(inst.botUrl, 'U0LEAD', 'start after');
    const other = await eventually(() => inst.activeRunId('after'));
    // The stopped run's Approve for its own `create` is still on screen: take this run's button.
    const approve = await fake.waitFor(() => {
      for (const message of fake.messages.all({ channel: CHANNEL })) {
        const button = buttonsIn(message.blocks).find((b) => b.actionId === 'step.approve' && (b.value ?? '').includes(`"r":"${other}"`));
        if (button?.value && button.blockId) return { message, value: button.value, blockId: button.blockId };
      }
      return undefined;
    }, 15_000);
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: 'U0DBA1',
      channelId: CHANNEL,
      messageTs: approve.message.ts,
      threadTs: approve.message.threadTs,
      actionId: 'step.approve',
      blockId: approve.blockId,
      value: approve.value,
    });
    await eventually(async () => (await inst.state(other))?.steps['create']?.status === 'succeeded', 20_000);
    expect(web.child.exitCode).toBeNull();
  }, 60_000);
});
