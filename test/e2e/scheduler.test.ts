import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstallation, eventually, freePort, sleep, SIGNING_SECRET, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { CHANNEL, ephemeralTexts, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { escalationRunbook, INCIDENT } from '../support/escalation-runbooks.js';
import { buttonsIn, startFakeSlack, type FakeMessage, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const DAY = 86_400_000;

describe('the escalation scheduler lock: two web processes on one Redis', () => {
  let fake: FakeSlack;
  let inst: Installation;
  let webs: ProductProcess[] = [];

  beforeAll(async () => {
    fake = await startFakeSlack();
    inst = await createInstallation(fake.apiUrl, { twin: escalationRunbook('twin', { oncall: 'U0ONCALLT' }) });
    inst.env.ESCALATION_SWEEP_SECONDS = '1';
    webs = [await inst.startWeb(), await inst.startWeb({ PORT: String(await freePort()) })];
  }, 60_000);

  afterAll(async () => {
    await stopE2E({ inst, fake });
  });

  it('sends each reminder and escalation exactly once, from one leader', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start twin');
    // Counted across the whole channel: each web renders the run (its root may be posted by either).
    const thread = (text: string): FakeMessage[] => fake.messages.all({ channel: CHANNEL }).filter((m) => m.threadTs !== undefined && m.text.includes(text));
    await fake.waitFor(() => thread('Escalation')[0], 15_000);
    await sleep(4000);
    expect(thread('Reminder')).toHaveLength(1);
    expect(thread('Escalation')).toHaveLength(1);
    expect(fake.messages.dmsTo('U0ONCALLT')).toHaveLength(1);
    expect(fake.messages.dmsTo('U0LEAD2')).toHaveLength(1);
    expect(fake.messages.inChannel(INCIDENT).filter((m) => m.text.includes('twin'))).toHaveLength(1);
    const leaders = webs.filter((w) => w.output.some((l) => l.includes('escalation sweep: leading')));
    expect(leaders).toHaveLength(1);
    expect(webs.every((w) => w.child.exitCode === null)).toBe(true);
  }, 60_000);
});

describe('/migrate schedule', () => {
  let fake: FakeSlack;
  let inst: Installation;
  let web: ProductProcess;

  beforeAll(async () => {
    ({ fake, inst, web } = await startE2E({
      runbooks: {
        sched: escalationRunbook('sched', { oncall: 'U0ONCALLS' }),
        later: escalationRunbook('later', { oncall: 'U0ONCALLL' }),
      },
      env: { ESCALATION_SWEEP_SECONDS: '1' },
      worker: false,
    }));
  }, 60_000);

  afterAll(async () => {
    await stopE2E({ inst, fake });
  });

  const top = (text: string): FakeMessage[] => fake.messages.inChannel(CHANNEL).filter((m) => m.text.includes(text));

  it('reminds at T-24h, holds roll calls, escalates a role nobody confirmed for, and starts the run at T across a kill -9 of web', async () => {
    // T is a day ahead; the restarted web's clock is moved forward to just before T (CUTOVER_CLOCK_OFFSET_MS),
    // with room for web to boot on a loaded machine (it has taken 9–11 s) before T passes.
    const LEAD_MS = 20_000;
    const T = Math.ceil((Date.now() + DAY + LEAD_MS) / 1000) * 1000;
    await migrate(inst.botUrl, 'U0LEAD', `schedule sched ${new Date(T).toISOString()}`);
    await fake.waitFor(() => top('scheduled *E2E escalation sched*')[0]);
    await migrate(inst.botUrl, 'U0DBA1', 'status');
    const status = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('Scheduled runs')));
    expect(status).toContain('`sched`');

    const reminder = await fake.waitFor(() => top('starts in 24h')[0], LEAD_MS + 15_000); // T-24h is LEAD_MS away
    for (const who of ['U0LEAD', 'U0LEAD2', 'U0DBA1', 'U0DBA2']) expect(reminder.text).toContain(`<@${who}>`);
    const rollCall = await fake.waitFor(() => top('Roll call (for tomorrow)')[0], 5000);
    const dbaButton = buttonsIn(rollCall.blocks).find((b) => b.actionId === 'rollcall.confirm.dba');
    expect(buttonsIn(rollCall.blocks).map((b) => b.actionId)).toEqual(['rollcall.confirm.lead', 'rollcall.confirm.dba']);
    // Someone outside the role cannot confirm for it.
    const click = (user: string) =>
      sendBlockAction(inst.botUrl, SIGNING_SECRET, { userId: user, channelId: CHANNEL, messageTs: rollCall.ts, actionId: 'rollcall.confirm.dba', blockId: dbaButton?.blockId ?? '', value: dbaButton?.value ?? '' });
    await click('U0LEAD2');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.includes('not in Database administrator')));
    await click('U0DBA2');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('present for Database administrator')));
    await fake.waitFor(() => fake.messages.get(CHANNEL, rollCall.ts)?.text.includes('✅ *Database administrator*: <@U0DBA2>'));

    await web.kill('SIGKILL');
    web = await inst.startWeb({ CUTOVER_CLOCK_OFFSET_MS: String(T - Date.now() - LEAD_MS) });

    // At "T-20s": T-1h is overtaken (skipped), T-10m is the latest reminder; roll call 1 is escalated for the lead only.
    const escalated = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => m.text.includes('Roll call: nobody has confirmed')), 15_000);
    expect(escalated.text).toContain('Migration lead');
    expect(escalated.text).not.toContain('Database administrator');
    await fake.waitFor(() => fake.messages.dmsTo('U0LEAD2').find((m) => m.text.includes('Roll call')));
    // The T-10m reminder, sent late after the restart, says how long is really left.
    await fake.waitFor(() => top('⏰')[1]);
    expect(top('⏰')[1]?.text).toContain('starts in 1m');

    const runId = await eventually(() => inst.activeRunId('sched'), 40_000, 'scheduled run started');
    const [started] = await inst.events(runId);
    expect(started?.type).toBe('run.started');
    expect(started?.type === 'run.started' && started.by).toBe('U0LEAD');
    expect(started?.at).toBeGreaterThanOrEqual(T);
    await fake.waitFor(() => top('Roll call (the window is opening)')[0], 10_000);
    // T-24h and the late T-10m: the overtaken T-1h reminder was skipped, and nothing was sent twice.
    expect(top('⏰')).toHaveLength(2);
    // Nobody answers the window-opening roll call: escalate_after (4 s) later both roles are escalated, once.
    const rollCallEscalations = (): FakeMessage[] => fake.messages.all({ channel: CHANNEL }).filter((m) => m.text.includes('Roll call: nobody has confirmed'));
    const second = await fake.waitFor(() => rollCallEscalations()[1], 15_000);
    expect(second.text).toContain('Migration lead, Database administrator');
    await sleep(2000);
    expect(rollCallEscalations()).toHaveLength(2);
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort sched done');
  }, 120_000);

  it('lists a scheduled run in /migrate status and cancels it with /migrate unschedule', async () => {
    // Two days ahead: the web restarted above runs its clock a day forward.
    const T = Date.now() + 2 * DAY;
    await migrate(inst.botUrl, 'U0DBA1', `schedule later ${new Date(T).toISOString()}`);
    await fake.waitFor(() => top('scheduled *E2E escalation later*')[0]);
    await migrate(inst.botUrl, 'U0DBA1', `schedule later ${new Date(T + 60_000).toISOString()}`);
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('`later` is already scheduled')));
    await migrate(inst.botUrl, 'U0DBA1', 'schedule later yesterday');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('is not an ISO time')));

    await migrate(inst.botUrl, 'U0DBA2', 'status');
    const listed = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('Scheduled runs')));
    expect(listed).toContain('`later`');

    await migrate(inst.botUrl, 'U0DBA2', 'unschedule later');
    await fake.waitFor(() => top('cancelled the run of `later`')[0]);
    await migrate(inst.botUrl, 'U0DBA2', 'status');
    const lastStatus = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').filter((t) => t.includes('active run') || t.includes('Scheduled runs'))[1]);
    expect(lastStatus).not.toContain('`later`');
    expect(await inst.redis.hlen(`${inst.prefix}:schedules`)).toBe(0);
  }, 30_000);
});
