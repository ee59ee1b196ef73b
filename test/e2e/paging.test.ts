import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, SIGNING_SECRET, TEST_DATABASE_URL, type Installation, type ProductProcess } from '../support/cutover-processes.js';
import { answerConfirmation, CHANNEL, click, migrate } from '../support/cutover-slack.js';
import { buttonsIn, type FakeMessage, type FakeSlack } from '../support/fake-slack.js';
import { startPageReceiver, type PageReceiver } from '../support/page-receiver.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/**
 * Issue 13, findings 2 and 7, through the real Bolt app, Redis, the worker and
 * PostgreSQL, Slack faked at its HTTP boundary and PagerDuty / the paging
 * webhook at theirs: an escalated approval repeats until someone presses
 * Acknowledge; a waiting rollback approval pages; a rollback step that fails
 * pages (the run is paused then); a pager that is down is said in the thread
 * and made good by the next repeat; a cleared alert is resolved.
 */

const SCHEMA = `e2e_paging_${process.pid}`;
const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef0123456';
const WEBHOOK_SECRET = 'webhook-secret-0123456789';
const INCIDENT = 'C0INCIDENT';

const runbook = `title: E2E paging
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
contacts:
  - { role: dba, name: On-call DBA, slack: U0ONCALL, phone: "+49 30 1234 567" }
permissions: { rollback: [lead] }
escalation: { remind_after: 2s, escalate_after: 4s, repeat_every: 2s, next_tier: [lead], incident_channel: ${INCIDENT}, sweep: 1s, page: [pagerduty, webhook] }
phases:
  - id: night
    title: Night
    steps:
      - { id: wait, title: Waiting step, approve: dba, action: manual }
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: lead
    steps:
      - { id: rb-empty, title: Empty the loaded table, approve: dba, action: sql, params: { connection: target, sql: "TRUNCATE ${SCHEMA}.loaded" } }
`;

let fake: FakeSlack;
let inst: Installation;
let receiver: PageReceiver;
let web: ProductProcess;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

beforeAll(async () => {
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  receiver = await startPageReceiver({ routingKey: ROUTING_KEY, webhookSecret: WEBHOOK_SECRET });
  ({ fake, inst, web } = await startE2E({
    runbooks: { paging: runbook },
    env: {
      ESCALATION_SWEEP_SECONDS: '1',
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: `${receiver.origin}/v2/enqueue`,
      PAGE_WEBHOOK_URL: `${receiver.origin}/hook`,
      PAGE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await receiver?.close();
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

const thread = (root: FakeMessage, text: string): FakeMessage[] => fake.threadOf(CHANNEL, root.ts).filter((m) => m.text.includes(text));
const pd = (dedupKey: string, action: string) => receiver.pagerDuty.filter((e) => e['dedup_key'] === dedupKey && e['event_action'] === action);
const hook = (dedupKey: string, action: string) => receiver.webhook.filter((e) => e['dedup_key'] === dedupKey && e['action'] === action);

/** Clicks Acknowledge on a thread message, as a person in the thread does. */
async function acknowledge(userId: string, message: FakeMessage) {
  const button = buttonsIn(message.blocks).find((b) => b.actionId === 'alert.acknowledge');
  if (!button) throw new Error(`no Acknowledge on: ${message.text}`);
  return sendBlockAction(inst.botUrl, SIGNING_SECRET, {
    userId, channelId: message.channel, messageTs: message.ts, threadTs: message.threadTs, actionId: 'alert.acknowledge', blockId: button.blockId ?? '', value: button.value ?? '',
  });
}

describe('every failure pages, and pages again until acknowledged (issue 13)', () => {
  it('escalation repeats until Acknowledge; the rollback approval and a failed rollback step page; PagerDuty and the webhook get trigger, acknowledge and resolve; a pager that is down is said in the thread', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start paging');
    const runId = await eventually(() => inst.activeRunId('paging'));
    const root = await fake.waitFor(() => fake.messages.find('E2E paging', { channel: CHANNEL }), 15_000);

    // The waiting approval escalates, then repeats with nobody answering; each round reaches PagerDuty and the webhook.
    const first = await fake.waitFor(() => thread(root, 'Escalation')[0], 20_000);
    expect(buttonsIn(first.blocks).map((b) => b.actionId)).toEqual(['alert.acknowledge']);
    await fake.waitFor(() => thread(root, '(repeat 1)')[0], 20_000);
    const waitKey = `${runId}/wait`;
    await fake.waitFor(() => pd(waitKey, 'trigger').length >= 2 && hook(waitKey, 'trigger').length >= 2, 15_000);
    const trigger = pd(waitKey, 'trigger')[0] as Record<string, any>;
    expect(trigger['payload']).toMatchObject({ source: 'cutover/paging', severity: 'error', component: 'paging', group: runId, class: 'escalation' });
    expect(trigger['payload']['summary']).toContain('"Waiting step" has waited');
    expect(fake.messages.dmsTo('U0ONCALL').length).toBeGreaterThanOrEqual(2);

    // Acknowledge: who and when in the thread, the clicker told in the thread, the pager told; the repeats stop.
    await acknowledge('U0DBA1', first);
    const acked = await fake.waitFor(() => thread(root, 'Acknowledged')[0], 15_000);
    expect(acked.text).toContain('by <@U0DBA1>');
    const toClicker = await fake.waitFor(() => fake.ephemeralsFor('U0DBA1').find((e) => e.text.includes('Acknowledged in your name')));
    expect(toClicker.threadTs).toBe(root.ts);
    await fake.waitFor(() => pd(waitKey, 'acknowledge').length === 1 && hook(waitKey, 'acknowledge').length === 1, 15_000);
    const ackedAt = (await inst.state(runId))?.steps['wait']?.acks?.[0]?.at ?? 0;
    expect(ackedAt).toBeGreaterThan(0);
    await acknowledge('U0LEAD', first);
    await fake.waitFor(() => fake.ephemeralsFor('U0LEAD').find((e) => e.text.includes('<@U0DBA1> already acknowledged this escalation')));

    // A rollback is requested; its approval waits and pages too. The forward approval is no longer chased: resolved.
    await migrate(inst.botUrl, 'U0LEAD', 'rollback pre-go-live the load is wrong');
    await answerConfirmation(fake, inst.botUrl, 'U0LEAD');
    await fake.waitFor(() => pd(waitKey, 'resolve').length === 1, 20_000);
    const rollbackKey = `${runId}/rollback`;
    await fake.waitFor(() => thread(root, 'Rollback approval escalated')[0], 20_000);
    await fake.waitFor(() => pd(rollbackKey, 'trigger').length >= 1, 15_000);
    await fake.waitFor(() => fake.messages.inChannel(INCIDENT).find((m) => m.text.includes('Rollback approval escalated')));
    // No repeat of the acknowledged escalation was sent after the acknowledgement, though sweeps went on all along.
    const waitRounds = (await inst.events(runId)).filter((e) => e.type === 'escalation.sent' && e.stepId === 'wait' && e.level === 'escalation');
    expect(waitRounds.every((e) => e.at <= ackedAt)).toBe(true);

    // Approved: the rollback's alert resolves; its step waits for the DBAs (chased though the run is paused).
    const approve = await fake.waitFor(() => fake.messages.all({ channel: CHANNEL }).find((m) => buttonsIn(m.blocks).some((b) => b.actionId === 'rollback.approve')));
    const approveButton = buttonsIn(approve.blocks).find((b) => b.actionId === 'rollback.approve');
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, { userId: 'U0LEAD2', channelId: CHANNEL, messageTs: approve.ts, threadTs: approve.threadTs, actionId: 'rollback.approve', blockId: approveButton?.blockId ?? '', value: approveButton?.value ?? '' });
    await fake.waitFor(() => pd(rollbackKey, 'resolve').length === 1, 20_000);

    // PagerDuty is down for the first page of the failing rollback step: the thread says so, Slack still pages.
    receiver.down(3);
    await click(fake, inst.botUrl, 'U0DBA1', 'rb-empty', 'approve');
    const page = await fake.waitFor(() => thread(root, 'Step failed').find((m) => m.text.includes('Empty the loaded table')), 20_000);
    expect(page.text).toContain('(a rollback step) failed');
    expect(buttonsIn(page.blocks).map((b) => b.actionId)).toContain('alert.acknowledge');
    const down = await fake.waitFor(() => thread(root, 'Paging beyond Slack failed')[0], 20_000);
    expect(down.text).toContain('PagerDuty: HTTP 503');
    expect(down.text).toContain('after 3 tries');
    expect(down.text).not.toContain(ROUTING_KEY);
    await fake.waitFor(() => fake.messages.inChannel(INCIDENT).find((m) => m.text.includes('Empty the loaded table')));
    // The next repeat reaches it (same dedup_key: one incident).
    const stepKey = `${runId}/rb-empty`;
    await fake.waitFor(() => pd(stepKey, 'trigger').length >= 1, 20_000);
    expect((pd(stepKey, 'trigger')[0] as Record<string, any>)['payload']['severity']).toBe('critical');

    // Fixed and retried: the rollback ends, and the step's incident resolves.
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}; CREATE TABLE IF NOT EXISTS ${SCHEMA}.loaded (id int)`);
    await click(fake, inst.botUrl, 'U0DBA2', 'rb-empty', 'retry');
    await eventually(async () => (await inst.state(runId))?.status === 'rolled_back', 30_000);
    await fake.waitFor(() => pd(stepKey, 'resolve').length === 1 && hook(stepKey, 'resolve').length === 1, 20_000);
    expect(receiver.refused).toEqual([]);
    // The key and the secret never reach the log (nor Slack, checked above).
    expect(web.output.some((l) => l.includes('page sent'))).toBe(true);
    expect(web.output.join('\n')).not.toContain(ROUTING_KEY);
    expect(web.output.join('\n')).not.toContain(WEBHOOK_SECRET);
    expect(JSON.stringify(fake.calls)).not.toContain(ROUTING_KEY);
  }, 150_000);
});
