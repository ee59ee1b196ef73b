import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, SIGNING_SECRET, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate } from '../support/cutover-slack.js';
import { buttonsIn, type FakeFile, type FakeMessage, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INCIDENT = 'C0INCIDENT';

/**
 * One manual sign-off, then two duties after it: "backup" for the DBAs a day
 * later (snoozed 4 h by its button), "archive" for the lead two days later,
 * escalated after one unanswered day. Web's clock is moved with
 * CUTOVER_CLOCK_OFFSET_MS, one restart per jump.
 */
const RUNBOOK = `title: E2E follow-ups
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2], requester_may_approve: true }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
contacts:
  - { role: dba, name: On-call DBA, slack: U0ONCALLF }
  - { role: lead, name: Night lead, slack: U0LEAD }
escalation: { next_tier: [lead], incident_channel: ${INCIDENT}, sweep: 1s }
phases:
  - id: night
    title: Night
    steps:
      - { id: signoff, title: Sign-off, approve: lead, action: manual }
follow_ups:
  - { id: backup, title: Back up PostgreSQL, after: 1d, role: dba, checklist: [pg_dump taken and restore-tested], snooze: 4h }
  - { id: archive, title: Archive SQL Server, after: 2d, role: lead, escalate_after: 1d }
`;

describe('follow-ups after go-live, through Slack on a fake clock', () => {
  let fake: FakeSlack;
  let inst: Installation;
  let web: ProductProcess;

  beforeAll(async () => {
    ({ fake, inst, web } = await startE2E({ runbooks: { fu: RUNBOOK }, env: { ESCALATION_SWEEP_SECONDS: '1' }, worker: false }));
  }, 60_000);

  afterAll(async () => {
    await stopE2E({ inst, fake });
  });

  /** Stops web (kill -9 by default) and starts it again with its clock this far ahead of real time. */
  const restartAt = async (offsetMs: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    await web.kill(signal);
    web = await inst.startWeb({ CUTOVER_CLOCK_OFFSET_MS: String(offsetMs) });
    // A killed leader's lease lapses first (3 sweeps, at least 5 s): only then does this one sweep.
    await web.waitForLog('escalation sweep: leading', 15_000);
  };
  const reminders = (title: string): FakeMessage[] =>
    fake.messages.all({ channel: CHANNEL }).filter((m) => m.threadTs !== undefined && m.versions[0]?.text.includes(title) && m.versions[0]?.text.includes('Follow-up'));
  const control = (m: FakeMessage | undefined, actionId: string) => buttonsIn(m?.blocks).find((b) => b.actionId === actionId);
  const press = (user: string, m: FakeMessage | undefined, actionId: string, value?: string) =>
    sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: user, channelId: CHANNEL, messageTs: m?.ts ?? '', threadTs: m?.threadTs, actionId, blockId: control(m, actionId)?.blockId ?? '', value: value ?? control(m, actionId)?.value ?? '',
    });
  const choose = (user: string, m: FakeMessage | undefined, label: string) => {
    const select = (m?.blocks ?? []).flatMap((b) => ((b as { elements?: unknown[] }).elements ?? []) as Array<{ type: string; action_id: string; options?: Array<{ text: { text: string }; value: string }> }>).find((e) => e.type === 'static_select');
    const option = select?.options?.find((o) => o.text.text === label);
    if (!option) throw new Error(`no option "${label}" in ${JSON.stringify(m?.blocks)}`);
    return sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: user, channelId: CHANNEL, messageTs: m?.ts ?? '', threadTs: m?.threadTs, actionId: 'followup.snooze_for', blockId: 'x', value: '', selectedOption: { text: option.text.text, value: option.value },
    });
  };
  const status = async (user: string, n: number): Promise<string> => {
    await migrate(inst.botUrl, user, 'status');
    return fake.waitFor(() => ephemeralTexts(fake, user).filter((t) => t.includes('active run') || t.includes('Follow-ups'))[n]);
  };

  it('reminds on time across restarts of web, escalates, refuses outsiders, snoozes and stops when done', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start fu');
    const runId = await eventually(() => inst.activeRunId('fu'), 10_000, 'run started');
    await click(fake, inst.botUrl, 'U0LEAD2', 'signoff', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed', 10_000, 'run completed');
    // Listed just after the completing events are appended: wait for it rather than read at once.
    await eventually(async () => (await inst.redis.smembers(`${inst.prefix}:follow-ups`)).join() === runId, 10_000, 'run listed for follow-ups');
    const scheduled = await status('U0DBA1', 0);
    expect(scheduled).toContain('Follow-ups after go-live');
    expect(scheduled).toMatch(/⏳ \*Back up PostgreSQL\* — for Database administrator \(<@U0DBA1>, <@U0DBA2>\) — due .* \(in (1d|23h \d+m)\)/);
    expect(scheduled).toContain('0 of 2 done');

    // A day later: the DBAs are reminded in the run's thread, broadcast to the channel, with Done / Snooze.
    await restartAt(DAY + 5000, 'SIGTERM');
    const first = await fake.waitFor(() => reminders('Back up PostgreSQL')[0], 15_000);
    // Values as first posted: the message object is redrawn in place later.
    const firstDone = control(first, 'followup.done')?.value;
    expect(first.text).toContain('<@U0DBA1> <@U0DBA2>');
    expect(buttonsIn(first.blocks).map((b) => b.actionId)).toEqual(['followup.done', 'followup.snooze']);
    expect(control(first, 'followup.snooze')?.text).toBe('Snooze 4h');
    expect(fake.callsOf('chat.postMessage').some((c) => c.args['thread_ts'] === first.threadTs && String(c.args['text']).includes('Back up PostgreSQL') && String(c.args['reply_broadcast']) === 'true')).toBe(true);
    // Someone outside the role is told so, and nothing is recorded.
    await press('U0LEAD2', first, 'followup.done');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.includes('only its members may mark it done')));
    expect((await inst.events(runId)).some((e) => e.type === 'follow_up.done')).toBe(false);
    await sleep(2500);
    expect(reminders('Back up PostgreSQL')).toHaveLength(1);

    // Killed between two reminders; back a day later: the second reminder, not the first again. The archive falls due too.
    await restartAt(2 * DAY + 10_000);
    const second = await fake.waitFor(() => reminders('Back up PostgreSQL')[1], 15_000);
    const secondSnooze = control(second, 'followup.snooze')?.value;
    expect(second.text).toContain('Follow-up due');
    await fake.waitFor(() => reminders('Archive SQL Server')[0], 15_000);
    await press('U0DBA2', second, 'followup.snooze', secondSnooze);
    await fake.waitFor(() => JSON.stringify(fake.messages.get(CHANNEL, second.ts)?.blocks).includes('Snoozed by <@U0DBA2>'));
    expect(control(fake.messages.get(CHANNEL, second.ts), 'followup.snooze')).toBeUndefined();
    // The same Snooze again (a stale copy of the message) is answered, not recorded twice.
    await press('U0DBA1', second, 'followup.snooze', secondSnooze);
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('<@U0DBA2> already snoozed')));
    expect((await inst.events(runId)).filter((e) => e.type === 'follow_up.snoozed')).toHaveLength(1);
    const snoozed = await status('U0DBA1', 1);
    expect(snoozed).toContain('💤 *Back up PostgreSQL*');
    expect(snoozed).toContain('snoozed by <@U0DBA2> until');

    // Within the snooze nothing is sent; after it, the reminder comes back.
    await restartAt(2 * DAY + 2 * HOUR, 'SIGTERM');
    await sleep(3000);
    expect(reminders('Back up PostgreSQL')).toHaveLength(2);
    expect(reminders('Archive SQL Server')).toHaveLength(1);
    await restartAt(2 * DAY + 5 * HOUR, 'SIGTERM');
    const third = await fake.waitFor(() => reminders('Back up PostgreSQL')[2], 15_000);
    await press('U0DBA1', third, 'followup.done');
    // Every copy of the reminder says who did it, and loses its buttons.
    for (const m of [first, second, third]) {
      await fake.waitFor(() => JSON.stringify(fake.messages.get(CHANNEL, m.ts)?.blocks).includes('Done — marked by <@U0DBA1>'));
      expect(buttonsIn(fake.messages.get(CHANNEL, m.ts)?.blocks)).toEqual([]);
    }
    await press('U0DBA2', first, 'followup.done', firstDone);
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('<@U0DBA1> already marked "Back up PostgreSQL" done')));

    // Days later: the done duty stays quiet; the unanswered archive is escalated to the lead's contact, the next tier and the incident channel.
    await restartAt(5 * DAY, 'SIGTERM');
    const escalation = await fake.waitFor(() => reminders('Archive SQL Server').find((m) => m.text.includes('Follow-up overdue')), 15_000);
    const escalationDone = control(escalation, 'followup.done')?.value;
    expect(escalation.text).toContain('Nobody has marked it done or snoozed it for 1d');
    await fake.waitFor(() => fake.messages.dmsTo('U0LEAD2').find((m) => m.text.includes('Archive SQL Server')));
    await fake.waitFor(() => fake.messages.inChannel(INCIDENT).find((m) => m.text.includes('Archive SQL Server')));
    await sleep(2000);
    expect(reminders('Back up PostgreSQL')).toHaveLength(3);
    expect(reminders('Archive SQL Server')).toHaveLength(2);

    // A chosen period from the menu, then Done: the follow-ups leave /migrate status and the sweep's list.
    await choose('U0LEAD2', escalation, 'Snooze 7d');
    await eventually(async () => (await inst.state(runId))?.followUps?.['archive']?.snoozes.at(-1)?.by === 'U0LEAD2', 10_000, 'archive snoozed');
    const week = (await inst.state(runId))?.followUps?.['archive']?.snoozes.at(-1);
    expect((week?.until ?? 0) - (week?.at ?? 0)).toBe(7 * DAY);
    await press('U0LEAD', escalation, 'followup.done', escalationDone);
    await eventually(async () => (await inst.redis.smembers(`${inst.prefix}:follow-ups`)).length === 0, 10_000, 'follow-ups unlisted');
    expect(await status('U0DBA1', 2)).not.toContain('Follow-ups after go-live');
    const state = await inst.state(runId);
    expect(state).toMatchObject({ status: 'completed' });

    // A later report carries them.
    const filesOf = (): FakeFile[] => [...fake.files.values()].filter((f) => f.completed && f.filename === `${runId}-report.md`);
    const before = filesOf().length;
    await migrate(inst.botUrl, 'U0LEAD', `report ${runId}`);
    const report = await fake.waitFor(() => filesOf()[before], 20_000);
    const md = report.bytes?.toString('utf8') ?? '';
    expect(md).toContain('## Follow-ups after go-live');
    expect(md).toMatch(/\| Back up PostgreSQL \| Database administrator \| .* \| done by @U0DBA1 at .* \| 3 \|/);
    expect(md).toMatch(/\| Archive SQL Server \| Migration lead \| .* \| done by @U0LEAD at .* \| 2, escalated \|/);
    expect(md).toContain('- Follow-ups after go-live: 2 of 2 done');
  }, 150_000);
});
