import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, SIGNING_SECRET, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { buttonsIn, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const SCHEMA = `e2e_rollback_${process.pid}`;

/** A forward run that fills a table, and a pre-go-live scenario of SQL steps that empties it and checks the source answers. */
function rollbackRunbook(schema: string): string {
  return `title: E2E rollback ${schema}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
permissions: { rollback: [lead] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: load
    title: Load
    steps:
      - id: fill
        title: Fill the table
        approve: dba
        action: sql
        params:
          connection: target
          sql: |
            DROP SCHEMA IF EXISTS ${schema} CASCADE;
            CREATE SCHEMA ${schema};
            CREATE TABLE ${schema}.antrag (id int PRIMARY KEY);
            INSERT INTO ${schema}.antrag SELECT generate_series(1, 3);
      - id: signoff
        title: Lead signs off
        approve: lead
        action: manual
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: lead
    steps:
      - id: rb-truncate
        title: Truncate the loaded table
        approve: dba
        action: sql
        planned: 30s
        params: { connection: target, sql: "TRUNCATE ${schema}.antrag" }
      - id: rb-source
        title: Verify the source answers
        approve: dba
        action: sql
        params: { connection: target, sql: "SELECT 1 AS ok", expect: { rows: 1 } }
`;
}

/** One slow forward SQL step, to request a rollback while it runs. */
const slowRunbook = `title: E2E rollback while running
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: load
    title: Load
    steps:
      - { id: slow, title: Slow load, approve: dba, action: sql, params: { connection: target, sql: "SELECT pg_sleep(30)" } }
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: lead
    steps:
      - { id: slow-rb-check, title: Check by hand, approve: dba, action: manual }
`;

let fake: FakeSlack;
let inst: Installation;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

beforeAll(async () => {
  ({ fake, inst } = await startE2E({ runbooks: { rb: rollbackRunbook(SCHEMA), slow: slowRunbook } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await db.end();
});

const rows = async (): Promise<number> => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.antrag`)).rows[0]?.n);

/** Clicks a button of the rollback request message in the thread. */
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

describe('/migrate rollback', () => {
  it('refuses people without the rollback role, refuses a second request, and the authority\'s approval runs the scenario to "rolled back"', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start rb');
    const root = await fake.waitFor(() => fake.messages.find('E2E rollback', { channel: CHANNEL }));
    const runId = await inst.activeRunId('rb');
    await click(fake, inst.botUrl, 'U0DBA1', 'fill', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['fill']?.status === 'succeeded', 20_000);
    expect(await rows()).toBe(3);

    // A DBA is not in permissions.rollback: refused, nothing requested.
    await migrate(inst.botUrl, 'U0DBA2', 'rollback pre-go-live counts look wrong');
    const notAllowed = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('may rollback')));
    expect(notAllowed).toContain('Only members of Migration lead');
    expect((await inst.state(runId))?.rollback ?? null).toBeNull();

    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'rollback totals differ from the source');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    const state = await inst.state(runId);
    expect(state?.status).toBe('paused');
    // No scenario typed and no switch done: the default is pre-go-live, and every word is the reason.
    expect(state?.rollback).toMatchObject({ scenario: 'pre-go-live', requestedBy: 'U0LEAD', reason: 'totals differ from the source' });
    const request = await fake.waitFor(() => fake.messages.find('Rollback requested', { channel: CHANNEL, threadTs: root.ts }));
    expect(buttonsIn(request.blocks).map((b) => b.actionId)).toEqual(['rollback.approve', 'rollback.cancel']);

    // The requester may not approve (separation of duties); a DBA is not the rollback authority.
    await clickRollback('U0LEAD', 'approve');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('separation of duties')));
    await clickRollback('U0DBA1', 'approve');
    await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('Only the rollback authority')));
    expect((await inst.state(runId))?.rollback?.status).toBe('requested');

    await clickRollback('U0LEAD2', 'approve');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'running');

    // A second request while the first runs is refused with a sentence.
    await migrate(inst.botUrl, 'U0LEAD2', 'rollback emergency the disk is full');
    const second = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD2').find((t) => t.includes('is already in progress')));
    expect(second).toMatch(/^A rollback \(pre-go-live\) requested by <@U0LEAD> at \d\d:\d\d UTC is already in progress\.$/);

    // The forward run stays stopped; the scenario's steps are approved by their role and run on the worker.
    await click(fake, inst.botUrl, 'U0DBA1', 'rb-truncate', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['rb-truncate']?.status === 'succeeded', 20_000);
    expect(await rows()).toBe(0);
    await click(fake, inst.botUrl, 'U0DBA2', 'rb-source', 'approve');
    const final = await eventually(async () => {
      const s = await inst.state(runId);
      return s?.status === 'rolled_back' ? s : null;
    }, 20_000);

    // The forward step that was waiting when the rollback came was never approved.
    expect(final.steps['signoff']).toMatchObject({ status: 'awaiting_approval', approvals: [] });
    const truncate = final.steps['rb-truncate'];
    for (const t of [truncate?.requestedAt, truncate?.approvedAt, truncate?.startedAt, truncate?.finishedAt]) expect(typeof t).toBe('number');
    expect(final.steps['rb-source']?.result?.summary).toBeTruthy();
    // Table kept, data gone; the runbook's active slot is free for another attempt.
    expect(await rows()).toBe(0);
    await eventually(async () => !(await inst.store.active()).some((a) => a.runId === runId));

    // The root message shows the rollback phase with its steps and ends "rolled back" with the reason.
    const rolledBack = await fake.waitFor(() => {
      const m = fake.messages.get(CHANNEL, root.ts);
      const shown = JSON.stringify(m?.blocks ?? []);
      return shown.includes('rolled back (pre-go-live): totals differ from the source') ? shown : undefined;
    });
    expect(rolledBack).toContain('Rollback pre-go-live: Pre-go-live rollback');
    expect(rolledBack).toContain('Truncate the loaded table');
    expect(rolledBack).toContain('planned 30s');
    // Each rollback step has its own message in the thread, with its result.
    await fake.waitFor(() => fake.messages.findAll('Result:', { channel: CHANNEL, threadTs: root.ts }).find((m) => m.text.includes('Verify the source answers')));
  }, 90_000);

  it('stops a forward step running on the worker as soon as a rollback is requested; a cancelled request leaves the run paused', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start slow');
    const runId = await eventually(() => inst.activeRunId('slow'));
    await click(fake, inst.botUrl, 'U0DBA1', 'slow', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['slow']?.status === 'running', 20_000);
    const asked = Date.now();
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD2', 'rollback pre-go-live the source moved');
    const failed = await eventually(async () => {
      const step = (await inst.state(runId))?.steps['slow'];
      return step?.status === 'failed' ? step : null;
    }, 15_000);
    // Stopped by the worker's watch, long before pg_sleep(30) would have ended.
    expect(failed.error?.code).toBe('sql.cancelled');
    expect(failed.error?.message).toContain('a rollback (pre-go-live) was requested by <@U0LEAD2>');
    expect(Date.now() - asked).toBeLessThan(15_000);

    await clickRollback('U0LEAD2', 'cancel');
    await eventually(async () => (await inst.state(runId))?.rollback === null);
    expect((await inst.state(runId))?.status).toBe('paused');
    await fake.waitFor(() => fake.messages.find('cancelled by <@U0LEAD2>', { channel: CHANNEL }));
    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'abort slow done');
    await eventually(async () => (await inst.state(runId))?.status === 'aborted');
  }, 60_000);
});
