import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, SIGNING_SECRET, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, clickInView, ephemeralTexts, migrate, openHome, stepMessage, submitModal, viewText } from '../support/cutover-slack.js';
import { buttonsIn, type FakeSlack } from '../support/fake-slack.js';
import { deliver, nextTriggerId, sendBlockAction, viewSubmissionBody } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 16 through the real Bolt app, Redis and the worker, Slack faked at its
 * HTTP boundary (views.publish/open/update with Slack's trigger rules): App
 * Home shows what waits for each person as the core decides it, and follows
 * the run; modals start runs and carry reasons, with field errors, the same
 * authorisation as clicks, and one effect per submission.
 */

const homeRunbook = (name: string): string => `title: E2E home ${name}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2], min_approvals: 2 }
permissions:
  abort: [lead]
  rollback: [lead]
phases:
  - id: night
    title: Night
    steps:
      - { id: ${name}-prep, title: Prepare the source, approve: dba, action: manual, skippable_by: [lead] }
      - { id: ${name}-go, title: Go live, approve: lead, action: manual }
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: lead
    steps:
      - { id: ${name}-rb1, title: Put the source back in service, approve: dba, action: manual }
`;

let fake: FakeSlack;
let inst: Installation;

beforeAll(async () => {
  ({ fake, inst } = await startE2E({ runbooks: { ha: homeRunbook('ha'), hb: homeRunbook('hb') } }));
}, 90_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
});

const eventCount = async (runId: string): Promise<number> => (await inst.events(runId)).length;

describe('App Home (issue 16)', () => {
  it('/migrate alone points to the Home tab; opening it shows nothing waiting; a run started from its modal appears in progress and, for both DBAs, as an approval waiting for them', async () => {
    await migrate(inst.botUrl, 'U0LEAD', '');
    const pointer = await fake.waitFor(() => fake.ephemeralsFor('U0LEAD').find((e) => e.text.includes('Home')));
    expect(pointer.text).toContain('`/migrate help`');
    expect(buttonsIn(pointer.blocks).map((b) => b.actionId)).toEqual(['home.start']);
    await migrate(inst.botUrl, 'U0LEAD', 'help');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.startsWith('*/migrate* — coordinated database cutovers')));

    const home = await openHome(fake, inst.botUrl, 'U0LEAD');
    expect(viewText(home)).toContain('Waiting for you (0)');
    expect(viewText(home)).toContain('In progress (0)');
    expect(home.view.type).toBe('home');

    // Start from the Home tab: a modal (opened at once as a placeholder, then filled in), a field error for the missing runbook, then the run.
    await clickInView(fake, inst.botUrl, 'U0LEAD', home, 'home.start');
    const modal = await fake.waitFor(() => (fake.modalOf('U0LEAD')?.view.callback_id === 'cutover.start' ? fake.modalOf('U0LEAD') : undefined));
    expect(viewText(modal)).toContain('Runbook');
    const missing = await submitModal(fake, inst.botUrl, 'U0LEAD', {});
    expect(missing.outcome).toBe('errors');
    expect(missing.delivery.json).toMatchObject({ response_action: 'errors', errors: { runbook: 'Choose the runbook to start.', channel: expect.stringContaining('channel') } });
    await expect(inst.activeRunId('ha')).rejects.toThrow(/no active run/);

    const started = await submitModal(fake, inst.botUrl, 'U0LEAD', { runbook: 'ha', channel: CHANNEL });
    expect(started.outcome).toBe('closed');
    const runId = await eventually(() => inst.activeRunId('ha'));
    expect(fake.modalOf('U0LEAD')).toBeUndefined();
    // From App Home there is no channel to answer in: the outcome comes as a DM.
    await fake.waitFor(() => fake.messages.all({ channel: 'DU0LEAD' }).find((m) => m.text.includes(runId)));

    // The lead's Home follows the run; a DBA's Home lists the approval waiting for them.
    await fake.waitFor(() => viewText(fake.homeOf('U0LEAD')).includes(runId) && viewText(fake.homeOf('U0LEAD')).includes('In progress (1)'), 15_000);
    const dba = await openHome(fake, inst.botUrl, 'U0DBA1');
    expect(viewText(dba)).toContain('Waiting for you (1)');
    expect(viewText(dba)).toContain('Approve <');
    expect(viewText(dba)).toContain('Prepare the source');
    expect(viewText(dba)).toContain('0 of 2 approvals so far');
    // The lead may not approve a DBA step: nothing waits for them.
    expect(viewText(fake.homeOf('U0LEAD'))).toContain('Waiting for you (0)');

    // N-of-M: once U0DBA1 approved, it no longer waits for them but still for U0DBA2 (1 of 2), refreshed without reopening.
    const approve = await fake.waitFor(() => stepMessage(fake, 'ha-prep', 'approve'), 15_000);
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, { userId: 'U0DBA1', channelId: CHANNEL, messageTs: approve.message.ts, threadTs: approve.message.threadTs, actionId: 'step.approve', blockId: approve.blockId, value: approve.value });
    await fake.waitFor(() => viewText(fake.homeOf('U0DBA1')).includes('Waiting for you (0)'), 15_000);
    const other = await openHome(fake, inst.botUrl, 'U0DBA2');
    expect(viewText(other)).toContain('1 of 2 approvals so far');
    expect(fake.callsOf('views.publish').every((c) => c.ok)).toBe(true);
  }, 120_000);
});

describe('modals (issue 16)', () => {
  it('Skip opens a modal: an empty reason is a field error, a reason skips the step once, the same submission again changes nothing; an outsider is refused before any modal', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start hb');
    const runId = await eventually(() => inst.activeRunId('hb'));
    const skip = await fake.waitFor(() => stepMessage(fake, 'hb-prep', 'skip'), 15_000);
    const clickSkip = (userId: string, opts = {}) =>
      sendBlockAction(inst.botUrl, SIGNING_SECRET, { userId, channelId: CHANNEL, messageTs: skip.message.ts, threadTs: skip.message.threadTs, actionId: 'step.skip', blockId: skip.blockId, value: skip.value }, opts);

    // A DBA may not skip: told at once, no modal.
    await clickSkip('U0DBA1');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('may skip')));
    expect(fake.modalOf('U0DBA1')).toBeUndefined();

    // A click whose trigger Slack never issued cannot open a modal: the person is told, with the typed alternative.
    await clickSkip('U0LEAD', { triggerId: '999.999.forged' });
    const refused = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.startsWith('The form could not open')));
    expect(refused).toContain('`/migrate skip <step> <reason>`');

    await clickSkip('U0LEAD2');
    const modal = await fake.waitFor(() => fake.modalOf('U0LEAD2'));
    expect(modal.view.title).toMatchObject({ text: 'Skip a step' });
    expect(viewText(modal)).toContain('Prepare the source');
    const before = await eventCount(runId);
    const empty = await submitModal(fake, inst.botUrl, 'U0LEAD2', { reason: '   ' });
    expect(empty.delivery.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('Write why') } });
    const long = await submitModal(fake, inst.botUrl, 'U0LEAD2', { reason: 'x'.repeat(501) });
    expect(long.delivery.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('keep it to 500') } });
    expect(await eventCount(runId)).toBe(before);

    const done = await submitModal(fake, inst.botUrl, 'U0LEAD2', { reason: 'checked by hand, INC-4711' });
    expect(done.outcome).toBe('closed');
    await eventually(async () => (await inst.state(runId))?.steps['hb-prep']?.status === 'skipped');
    const events = await inst.events(runId);
    expect(events.filter((e) => e.type === 'step.skipped')).toEqual([expect.objectContaining({ by: 'U0LEAD2', reason: 'checked by hand, INC-4711' })]);
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.startsWith('⏭️ Done')));

    // Slack redelivers the same submission: answered, nothing happens again; and Skip on a skipped step is refused before any modal.
    const again = await deliver(inst.botUrl, SIGNING_SECRET, done.delivery.sent.rawBody, { retryNum: 1, retryReason: 'http_timeout' });
    expect(again.status).toBe(200);
    expect((await inst.events(runId)).filter((e) => e.type === 'step.skipped')).toHaveLength(1);
    await clickSkip('U0LEAD');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('Prepare the source') && !t.startsWith('The form')));
    expect(fake.modalOf('U0LEAD')).toBeUndefined();

  }, 120_000);

  it('the Home tab\'s Abort… and Request rollback… open modals: the rollback picks its scenario, the abort records the reason; an expired modal is refused', async () => {
    const runId = await eventually(() => inst.activeRunId('hb'));
    const home = await openHome(fake, inst.botUrl, 'U0LEAD');
    expect(buttonsIn(home.view.blocks as unknown[]).map((b) => b.actionId)).toEqual(expect.arrayContaining(['home.rollback', 'home.abort']));
    const dbaHome = await openHome(fake, inst.botUrl, 'U0DBA1');
    expect(buttonsIn(dbaHome.view.blocks as unknown[]).map((b) => b.actionId)).not.toContain('home.abort');

    await clickInView(fake, inst.botUrl, 'U0LEAD', home, 'home.rollback');
    const rollback = await fake.waitFor(() => (fake.modalOf('U0LEAD')?.view.title as { text?: string } | undefined)?.text === 'Request a rollback' ? fake.modalOf('U0LEAD') : undefined);
    expect(viewText(rollback)).toContain('Pre-go-live rollback (pre-go-live)');
    const requested = await submitModal(fake, inst.botUrl, 'U0LEAD', { scenario: 'pre-go-live', reason: 'source totals differ' });
    expect(requested.outcome).toBe('closed');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    expect((await inst.state(runId))?.rollback).toMatchObject({ scenario: 'pre-go-live', requestedBy: 'U0LEAD', reason: 'source totals differ' });
    // The other lead may approve it (separation of duties keeps it from the requester): it waits on their Home.
    const lead2 = await openHome(fake, inst.botUrl, 'U0LEAD2');
    expect(viewText(lead2)).toContain('pre-go-live rollback');
    expect(viewText(fake.homeOf('U0LEAD'))).not.toContain('Approve the');

    // A modal older than 10 minutes (its metadata says when it opened) is refused, nothing done.
    const stale = { ...fake.views.json(rollback), private_metadata: JSON.stringify({ k: 'abort', r: runId, c: CHANNEL, u: 'U0LEAD', t: Date.now() - 11 * 60_000 }), callback_id: 'cutover.reason' };
    const old = await deliver(inst.botUrl, SIGNING_SECRET, viewSubmissionBody({ userId: 'U0LEAD', view: { ...stale, state: { values: { reason: { reason: { type: 'plain_text_input', value: 'too late' } } } } } }, nextTriggerId('U0LEAD')));
    expect(old.json).toMatchObject({ response_action: 'errors', errors: { reason: expect.stringContaining('minutes old') } });
    expect((await inst.state(runId))?.status).not.toBe('aborted');

    await clickInView(fake, inst.botUrl, 'U0LEAD', await openHome(fake, inst.botUrl, 'U0LEAD'), 'home.abort');
    await fake.waitFor(() => ((fake.modalOf('U0LEAD')?.view.title as { text?: string } | undefined)?.text === 'Abort the run' ? true : undefined));
    await submitModal(fake, inst.botUrl, 'U0LEAD', { reason: 'window closed, INC-99' });
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
    expect((await inst.state(runId))?.abort).toEqual({ by: 'U0LEAD', reason: 'window closed, INC-99' });
  }, 120_000);
});
