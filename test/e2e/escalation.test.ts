import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { escalationRunbook, INCIDENT } from '../support/escalation-runbooks.js';
import { buttonsIn, type FakeMessage, type FakeSlack } from '../support/fake-slack.js';
import { SIGNING_SECRET } from '../support/cutover-processes.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

let fake: FakeSlack;
let inst: Installation;

const failing = `      - id: boom
        title: Failing step
        approve: dba
        action: sql
        skippable_by: [lead]
        params: { connection: target, sql: "SELECT 1/0" }
`;

beforeAll(async () => {
  ({ fake, inst } = await startE2E({
    runbooks: {
      esc: escalationRunbook('esc'),
      cleared: escalationRunbook('cleared', { oncall: 'U0ONCALLB' }),
      page: escalationRunbook('page', { oncall: 'U0ONCALLP', moreSteps: failing }),
      // Two hours of planned work, a window closing in one: the go/no-go is due at once.
      gng: escalationRunbook('gng', {
        oncall: 'U0ONCALLG',
        planned: '2h',
        window: { end: new Date(Date.now() + 3_600_000).toISOString() },
        extra: 'rollback:\n  pre-go-live: { title: Truncate, approve: lead, planned: 15m }\n',
      }),
    },
    env: { ESCALATION_SWEEP_SECONDS: '1' },
  }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
});

/** The run's root message (its thread holds the step messages and escalations). */
const rootOf = (name: string): Promise<FakeMessage> => fake.waitFor(() => fake.messages.inChannel(CHANNEL).find((m) => m.text.includes(`E2E escalation ${name}`)), 15_000);
const threadWith = (root: FakeMessage, text: string): FakeMessage[] => fake.threadOf(CHANNEL, root.ts).filter((m) => m.text.includes(text));
const incidentWith = (text: string): FakeMessage[] => fake.messages.inChannel(INCIDENT).filter((m) => m.text.includes(text));

describe('escalation of a waiting approval', () => {
  it('reminds the role in the thread, then escalates (thread mention + DM + incident channel), once per level; nothing after approval', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start esc');
    const root = await rootOf('esc');
    const runId = await inst.activeRunId('esc');

    const reminder = await fake.waitFor(() => threadWith(root, 'Reminder')[0], 10_000);
    expect(reminder.text).toContain('"Waiting step esc" has waited');
    expect(reminder.text).toContain('<@U0DBA1>');
    expect(reminder.text).toContain('<@U0DBA2>');
    // A reminder stays in the thread: nobody is DMed yet.
    expect(fake.messages.dmsTo('U0ONCALL')).toHaveLength(0);

    const escalation = await fake.waitFor(() => threadWith(root, 'Escalation')[0], 10_000);
    for (const who of ['U0ONCALL', 'U0LEAD', 'U0LEAD2']) expect(escalation.text).toContain(`<@${who}>`);
    const dm = await fake.waitFor(() => fake.messages.dmsTo('U0ONCALL')[0]);
    expect(dm.text).toContain(runId);
    await fake.waitFor(() => fake.messages.dmsTo('U0LEAD2')[0]);
    await fake.waitFor(() => incidentWith('Waiting step esc')[0]);
    expect(fake.callsOf('conversations.open').some((c) => c.args.users === 'U0ONCALL')).toBe(true);

    // Several more sweeps: each level stays sent exactly once.
    await sleep(3000);
    expect(threadWith(root, 'Reminder')).toHaveLength(1);
    expect(threadWith(root, 'Escalation')).toHaveLength(1);
    expect(fake.messages.dmsTo('U0ONCALL')).toHaveLength(1);
    expect(incidentWith('Waiting step esc')).toHaveLength(1);
    const sent = (await inst.events(runId)).filter((e) => e.type === 'escalation.sent');
    expect(sent.map((e) => (e.type === 'escalation.sent' ? `${e.stepId}:${e.level}:${e.attempt}` : ''))).toEqual(['wait:reminder:1', 'wait:escalation:1']);

    await click(fake, inst.botUrl, 'U0DBA1', 'wait', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed');
    const dmsAfter = fake.messages.dmsTo('U0ONCALL').length + fake.messages.dmsTo('U0LEAD').length;
    await sleep(3000);
    expect(threadWith(root, 'Reminder')).toHaveLength(1);
    expect(threadWith(root, 'Escalation')).toHaveLength(1);
    expect(fake.messages.dmsTo('U0ONCALL').length + fake.messages.dmsTo('U0LEAD').length).toBe(dmsAfter);
    expect(incidentWith('Waiting step esc')).toHaveLength(1);
  }, 60_000);

  it('sends no escalation once the step is approved after the reminder', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start cleared');
    const root = await rootOf('cleared');
    const runId = await inst.activeRunId('cleared');
    await fake.waitFor(() => threadWith(root, 'Reminder')[0], 10_000);
    await click(fake, inst.botUrl, 'U0DBA2', 'wait', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed');
    // Well past escalate_after (4 s) and several sweeps later.
    await sleep(5000);
    expect(threadWith(root, 'Escalation')).toHaveLength(0);
    expect(fake.messages.dmsTo('U0ONCALLB')).toHaveLength(0);
    expect(incidentWith('Waiting step cleared')).toHaveLength(0);
    expect((await inst.events(runId)).filter((e) => e.type === 'escalation.sent')).toHaveLength(1);
  }, 60_000);
});

describe('a failed step', () => {
  it('pages at once with Retry / Skip / Rollback; Rollback pauses the run and says how to roll back', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start page');
    const root = await rootOf('page');
    const runId = await inst.activeRunId('page');
    await click(fake, inst.botUrl, 'U0DBA1', 'wait', 'approve');
    await click(fake, inst.botUrl, 'U0DBA2', 'boom', 'approve');
    const page = await fake.waitFor(() => threadWith(root, 'Step failed')[0], 20_000);
    expect(page.text).toContain('"Failing step" failed');
    expect(buttonsIn(page.blocks).map((b) => b.actionId)).toEqual(['step.retry', 'step.skip', 'escalation.rollback', 'alert.acknowledge']);
    const dm = await fake.waitFor(() => fake.messages.dmsTo('U0ONCALLP')[0]);
    expect(buttonsIn(dm.blocks).map((b) => b.actionId)).toContain('escalation.rollback');
    await fake.waitFor(() => incidentWith('Failing step')[0]);

    const rollback = buttonsIn(page.blocks).find((b) => b.actionId === 'escalation.rollback');
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: 'U0LEAD', channelId: CHANNEL, messageTs: page.ts, threadTs: root.ts, actionId: 'escalation.rollback', blockId: rollback?.blockId ?? '', value: rollback?.value ?? '',
    });
    await eventually(async () => (await inst.state(runId))?.status === 'paused');
    const told = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('Rollback scenarios')));
    expect(told).toContain('The run is paused');
    expect(threadWith(root, 'Step failed')).toHaveLength(1);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort page done');
  }, 60_000);
});

describe('/migrate contacts', () => {
  it('shows the runbook\'s emergency contacts table as an ephemeral Block Kit message', async () => {
    await migrate(inst.botUrl, 'U0DBA2', 'contacts esc');
    const shown = await fake.waitFor(() => fake.ephemeralsFor('U0DBA2').find((e) => e.text.includes('Emergency contacts')));
    const blocks = JSON.stringify(shown.blocks);
    for (const cell of ['On-call DBA', '<@U0ONCALL>', '+49 30 1234 567', 'oncall@example.org', 'Night lead', 'Database administrator', 'Migration lead']) {
      expect(blocks).toContain(cell);
    }
    expect(shown.blocks?.[0]).toMatchObject({ type: 'header' });
    await migrate(inst.botUrl, 'U0DBA2', 'contacts nosuch');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('There is no runbook `nosuch`')));
  });
});

describe('the go/no-go prompt', () => {
  it('is posted once to the lead when finishing plus rollback no longer fits the window; Start rollback is the lead\'s and pauses the run', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start gng');
    const root = await rootOf('gng');
    const runId = await inst.activeRunId('gng');
    const prompt = await fake.waitFor(() => threadWith(root, 'Go/no-go')[0], 10_000);
    expect(prompt.text).toContain('<@U0LEAD2>');
    const rollback = buttonsIn(prompt.blocks).find((b) => b.actionId === 'gonogo.rollback');
    expect(buttonsIn(prompt.blocks).map((b) => b.actionId)).toEqual(['gonogo.continue', 'gonogo.rollback']);
    const press = (user: string) =>
      sendBlockAction(inst.botUrl, SIGNING_SECRET, { userId: user, channelId: CHANNEL, messageTs: prompt.ts, threadTs: root.ts, actionId: 'gonogo.rollback', blockId: rollback?.blockId ?? '', value: rollback?.value ?? '' });
    await press('U0DBA1');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('may make the go/no-go decision')));
    expect((await inst.state(runId))?.status).toBe('active');

    await press('U0LEAD2');
    await eventually(async () => (await inst.state(runId))?.status === 'paused');
    expect((await inst.state(runId))?.goNoGo?.decision).toMatchObject({ by: 'U0LEAD2', choice: 'rollback' });
    await fake.waitFor(() => fake.messages.get(CHANNEL, prompt.ts)?.text.includes('decided to roll back'));
    expect(buttonsIn(fake.messages.get(CHANNEL, prompt.ts)?.blocks)).toEqual([]);
    await press('U0LEAD');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('already decided')));
    await sleep(2000);
    expect(threadWith(root, 'Go/no-go')).toHaveLength(1);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort gng done');
  }, 60_000);
});
