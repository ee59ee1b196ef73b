import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, SIGNING_SECRET, type Installation } from '../support/cutover-processes.js';
import { answerConfirmation, CHANNEL, click, ephemeralTexts, migrate } from '../support/cutover-slack.js';
import { buttonsIn, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 13 through the real Bolt app, Redis and the worker, Slack faked at its
 * HTTP boundary: destructive commands need a reason and a confirmation; a
 * rollback can always be approved (a deputy when the lone authority asks);
 * separation of duties follows the rollback request; the thread tells the story.
 */

/** Two manual forward steps; the rollback authority has one member (U0RB) and the lead deputises; rollback steps are the DBAs'. */
const incidentRunbook = (name: string): string => `title: E2E incident ${name}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
  rollback: { title: Rollback authority, members: [U0RB] }
permissions:
  abort: [lead, rollback]
  rollback: [rollback, lead, dba]
phases:
  - id: night
    title: Night
    steps:
      - { id: ${name}-prep, title: Prepare, approve: dba, action: manual }
      - { id: ${name}-go, title: Go live, approve: dba, action: manual }
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: rollback
    steps:
      - { id: ${name}-rb1, title: Put the source back in service, approve: dba, action: manual }
`;

/** The same authority without a deputy: the runbook must not load (issue 13, finding 1). */
const strandedRunbook = `title: Stranded rollback
roles:
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
  rollback: { title: Rollback authority, members: [U0RB] }
phases:
  - id: p
    title: P
    steps: [{ id: s, title: S, approve: dba, action: manual }]
rollback:
  pre-go-live: { title: Pre, approve: rollback, steps: [] }
`;

let fake: FakeSlack;
let inst: Installation;

beforeAll(async () => {
  ({ fake, inst } = await startE2E({ runbooks: { ab: incidentRunbook('ab'), rb: incidentRunbook('rb'), sod: incidentRunbook('sod'), stranded: strandedRunbook } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
});

/** The run's root message (the thread the story goes into). */
const rootOf = (title: string) => fake.waitFor(() => fake.messages.find(title, { channel: CHANNEL }), 15_000);

/** Clicks Approve or Cancel on the rollback request in the thread. */
async function clickRollback(userId: string, action: 'approve' | 'cancel') {
  const found = await fake.waitFor(() => {
    for (const message of fake.messages.all({ channel: CHANNEL })) {
      const button = buttonsIn(message.blocks).find((b) => b.actionId === `rollback.${action}`);
      if (button?.value && button.blockId) return { message, button };
    }
    return undefined;
  });
  return sendBlockAction(inst.botUrl, SIGNING_SECRET, {
    userId, channelId: CHANNEL, messageTs: found.message.ts, threadTs: found.message.threadTs, actionId: `rollback.${action}`, blockId: found.button.blockId ?? '', value: found.button.value ?? '',
  });
}

describe('destructive commands need a reason and a confirmation (issue 13, finding 3)', () => {
  it('abort without a reason is refused with the usage and the run untouched; with one, nothing happens before Confirm, then the thread tells who, when and why', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start ab');
    const runId = await eventually(() => inst.activeRunId('ab'));
    const root = await rootOf('E2E incident ab');
    const version = (await inst.events(runId)).length;

    await migrate(inst.botUrl, 'U0LEAD', 'abort');
    const usage = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.startsWith('An abort needs a written reason')));
    expect(usage).toContain('Usage: `/migrate abort [run] <reason>`');
    await migrate(inst.botUrl, 'U0LEAD', 'abort ab');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').filter((t) => t.startsWith('An abort needs a written reason')).length === 2);
    expect((await inst.events(runId)).length).toBe(version);

    // Someone without the abort permission is refused at once, with no button to click.
    await migrate(inst.botUrl, 'U0DBA1', 'abort the disk is full');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('may abort a run')));
    expect(fake.ephemeralsFor('U0DBA1').some((e) => buttonsIn(e.blocks).length > 0)).toBe(false);

    // With a reason: a confirmation saying exactly what the click does; "Do nothing" does nothing.
    await migrate(inst.botUrl, 'U0LEAD', 'abort the source backup failed verification');
    const confirmation = await fake.waitFor(() => fake.ephemeralsFor('U0LEAD').find((e) => buttonsIn(e.blocks).some((b) => b.actionId === 'destructive.confirm')));
    expect(confirmation.text).toContain('Nothing has happened yet');
    expect(confirmation.text).toContain(`Abort run \`${runId}\``);
    expect(confirmation.text).toContain('Nothing is undone — no rollback, no unfreeze');
    expect(confirmation.text).toContain('“the source backup failed verification”');
    expect(buttonsIn(confirmation.blocks).map((b) => b.text)).toEqual(['Abort the run', 'Do nothing']);
    await answerConfirmation(fake, inst.botUrl, 'U0LEAD', 'destructive.dismiss');
    await fake.waitFor(() => fake.ephemeralsFor('U0LEAD').find((e) => e.text === 'Nothing was done; the run is as it was.'));
    expect((await inst.state(runId))?.status).toBe('active');
    expect((await inst.events(runId)).length).toBe(version);

    await migrate(inst.botUrl, 'U0LEAD', 'abort the source backup failed verification');
    await answerConfirmation(fake, inst.botUrl, 'U0LEAD');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
    expect((await inst.state(runId))?.abort).toEqual({ by: 'U0LEAD', reason: 'the source backup failed verification' });
    // The confirmation is replaced by what happened (so it cannot be clicked twice), and the thread tells everyone.
    await fake.waitFor(() => fake.ephemeralsFor('U0LEAD').find((e) => e.text.startsWith('🛑 Done: the run is aborted')));
    const told = await fake.waitFor(() => fake.messages.find('Run aborted', { channel: CHANNEL, threadTs: root.ts }));
    expect(told.text).toContain('by <@U0LEAD>');
    expect(told.text).toContain('the source backup failed verification');
  }, 60_000);
});

describe('a rollback can always be approved; separation of duties follows the request (issue 13, findings 1 and 9)', () => {
  it('a runbook whose lone rollback authority has no deputy does not load, naming file and path', async () => {
    await migrate(inst.botUrl, 'U0DBA1', 'runbooks');
    const list = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('stranded')));
    expect(list).toMatch(/stranded\.yaml: rollback\.pre-go-live\.approve: rollback authority "rollback" could not approve a rollback requested by U0RB/);
  });

  it('the lone authority asks; the request names the deputy; her own click is refused in the thread; the deputy approves; the requester may not approve a rollback step, another DBA may; cancel and approval are told in the thread', async () => {
    await migrate(inst.botUrl, 'U0DBA1', 'start rb');
    const runId = await eventually(() => inst.activeRunId('rb'));
    const root = await rootOf('E2E incident rb');

    // A rollback request needs a reason too.
    await migrate(inst.botUrl, 'U0RB', 'rollback pre-go-live');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0RB').find((t) => t.startsWith('A rollback request needs a written reason')));

    // A first request by a DBA, cancelled with a reason: the request message closes and the thread says who and why.
    await migrate(inst.botUrl, 'U0DBA2', 'rollback pre-go-live counts looked off');
    await answerConfirmation(fake, inst.botUrl, 'U0DBA2');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    await migrate(inst.botUrl, 'U0DBA2', 'rollback cancel the counts matched after a re-run');
    const cancelConfirm = await fake.waitFor(() => fake.ephemeralsFor('U0DBA2').find((e) => e.text.includes('Cancel the pre-go-live rollback requested by <@U0DBA2>')));
    expect(buttonsIn(cancelConfirm.blocks)[0]?.text).toBe('Cancel the rollback request');
    await answerConfirmation(fake, inst.botUrl, 'U0DBA2');
    await eventually(async () => (await inst.state(runId))?.rollback === null);
    const cancelled = await fake.waitFor(() => fake.messages.find('Rollback request cancelled', { channel: CHANNEL, threadTs: root.ts }));
    expect(cancelled.text).toContain('by <@U0DBA2>');
    expect(cancelled.text).toContain('the counts matched after a re-run');
    await migrate(inst.botUrl, 'U0LEAD', 'resume rb');
    await eventually(async () => (await inst.state(runId))?.status === 'active');

    // The authority's only member asks: the request says the deputy approves.
    await migrate(inst.botUrl, 'U0RB', 'rollback pre-go-live the extract looked short');
    const confirm = await fake.waitFor(() => fake.ephemeralsFor('U0RB').find((e) => buttonsIn(e.blocks).some((b) => b.actionId === 'destructive.confirm')));
    expect(confirm.text).toContain('deputy Migration lead (<@U0LEAD>, <@U0LEAD2>)');
    await answerConfirmation(fake, inst.botUrl, 'U0RB');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    const request = await fake.waitFor(() => fake.messages.find('Rollback requested', { channel: CHANNEL, threadTs: root.ts }));
    expect(JSON.stringify(request.blocks)).toContain('deputy Migration lead (<@U0LEAD>, <@U0LEAD2>), since <@U0RB> asked');

    // Her own approval is refused (separation of duties), in the thread where she clicked.
    await clickRollback('U0RB', 'approve');
    const refusal = await fake.waitFor(() => fake.ephemeralsFor('U0RB').find((e) => e.text.includes('separation of duties')));
    expect(refusal.threadTs).toBe(root.ts);
    await clickRollback('U0LEAD2', 'approve');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'running');
    const approved = await fake.waitFor(() => fake.messages.find('Rollback approved', { channel: CHANNEL, threadTs: root.ts }));
    expect(approved.text).toContain('by <@U0LEAD2>');

    await click(fake, inst.botUrl, 'U0DBA2', 'rb-rb1', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'rolled_back', 20_000);
  }, 90_000);

  it('a rollback step may not be approved by whoever requested the rollback, and may be by the person who started the run', async () => {
    await migrate(inst.botUrl, 'U0DBA1', 'start sod');
    const runId = await eventually(() => inst.activeRunId('sod'));
    const root = await rootOf('E2E incident sod');
    await migrate(inst.botUrl, 'U0DBA2', 'rollback pre-go-live the source must serve again');
    await answerConfirmation(fake, inst.botUrl, 'U0DBA2');
    await clickRollback('U0RB', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['sod-rb1']?.status === 'awaiting_approval');

    await click(fake, inst.botUrl, 'U0DBA2', 'sod-rb1', 'approve');
    const refusal = await fake.waitFor(() => fake.ephemeralsFor('U0DBA2').find((e) => e.text.startsWith('You requested this rollback, so you may not approve')));
    expect(refusal.threadTs).toBe(root.ts);
    expect((await inst.state(runId))?.steps['sod-rb1']?.approvals).toEqual([]);
    // U0DBA1 started the run; the rollback was not their decision, so they may approve its step.
    await click(fake, inst.botUrl, 'U0DBA1', 'sod-rb1', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'rolled_back', 20_000);
  }, 60_000);
});
