import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, SIGNING_SECRET, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { buttonsIn, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

/** A PostgreSQL database and application role standing in for the production source. */
const DB = `cutover_e2e_freeze_${process.pid}`;
const APP = `cutover_e2e_app_${process.pid}`;
const sourceUrl = (user?: string): string => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${DB}`;
  if (user) u.username = user;
  return u.toString();
};

/** Freeze the source, then a sign-off; the pre-go-live rollback unfreezes it (the runbook would not load without that step). */
const freezeRunbook = `title: E2E freeze ${DB}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
permissions: { rollback: [lead] }
connections:
  source: { kind: postgres, url: "${sourceUrl()}" }
phases:
  - id: freeze
    title: Freeze production
    steps:
      - id: freeze-source
        title: Freeze the source (seed 002 step 1)
        approve: dba
        action: freeze.source
        params: { connection: source, set_read_only: true, app_roles: [${APP}] }
      - id: signoff
        title: Lead signs off the extraction
        approve: lead
        action: manual
rollback:
  pre-go-live:
    title: Pre-go-live rollback
    approve: lead
    steps:
      - id: rb-unfreeze
        title: Put the source back in service
        approve: dba
        action: unfreeze.source
        params: { freeze_step: freeze-source }
`;

let fake: FakeSlack;
let inst: Installation;
let admin: pg.Client;

/** An application write as the application's role, or the error it gets. */
async function appWrite(value: string): Promise<string> {
  const c = new pg.Client({ connectionString: sourceUrl(APP), application_name: 'kgv-web' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('INSERT INTO antrag (name) VALUES ($1)', [value]);
    return 'written';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await c.end().catch(() => undefined);
  }
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${APP}`);
  await admin.query(`CREATE ROLE ${APP} LOGIN`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const db = new pg.Client({ connectionString: sourceUrl() });
  await db.connect();
  await db.query(`CREATE TABLE antrag (id serial PRIMARY KEY, name text); GRANT SELECT, INSERT ON antrag TO ${APP}; GRANT USAGE ON SEQUENCE antrag_id_seq TO ${APP}`);
  await db.end();
  ({ fake, inst } = await startE2E({ runbooks: { freeze: freezeRunbook } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS ${APP}`);
  await admin.end();
});

describe('freeze.source in a run, unfreeze.source in its rollback', () => {
  it('the approved freeze ends the application\'s session and stops its writes; the pre-go-live rollback puts the source back in service', async () => {
    // The application is connected when the night starts.
    const app = new pg.Client({ connectionString: sourceUrl(APP), application_name: 'kgv-web' });
    app.on('error', () => undefined);
    await app.connect();
    expect(await appWrite('before the freeze')).toBe('written');

    await migrate(inst.botUrl, 'U0LEAD', 'start freeze');
    const root = await fake.waitFor(() => fake.messages.find('E2E freeze', { channel: CHANNEL }));
    const runId = await inst.activeRunId('freeze');
    await click(fake, inst.botUrl, 'U0DBA1', 'freeze-source', 'approve');
    const frozen = await eventually(async () => {
      const step = (await inst.state(runId))?.steps['freeze-source'];
      return step?.status === 'succeeded' || step?.status === 'failed' ? step : null;
    }, 30_000);
    expect(frozen.error).toBeNull();
    expect(frozen.result?.summary).toContain('write refused');

    // Impossible, not unlikely: the open session is gone, the role cannot log in, a new session is read-only.
    await expect(app.query(`INSERT INTO antrag (name) VALUES ('after the freeze')`)).rejects.toThrow();
    await app.end().catch(() => undefined);
    expect(await appWrite('after the freeze')).toMatch(/not permitted to log in/);
    // The sessions it found are in the step's thread message.
    await fake.waitFor(() => fake.messages.findAll('Sessions on', { channel: CHANNEL, threadTs: root.ts }).find((m) => JSON.stringify(m.blocks).includes(`${APP}@`)));

    await migrateConfirmed(fake, inst.botUrl, 'U0LEAD', 'rollback pre-go-live the extract looked short');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    const request = await fake.waitFor(() => {
      for (const message of fake.messages.all({ channel: CHANNEL })) {
        const button = buttonsIn(message.blocks).find((b) => b.actionId === 'rollback.approve');
        if (button?.value && button.blockId) return { message, button };
      }
      return undefined;
    });
    await sendBlockAction(inst.botUrl, SIGNING_SECRET, {
      userId: 'U0LEAD2', channelId: CHANNEL, messageTs: request.message.ts, threadTs: request.message.threadTs, actionId: 'rollback.approve', blockId: request.button.blockId ?? '', value: request.button.value ?? '',
    });
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'running');
    await click(fake, inst.botUrl, 'U0DBA2', 'rb-unfreeze', 'approve');
    const final = await eventually(async () => {
      const s = await inst.state(runId);
      return s?.status === 'rolled_back' || s?.steps['rb-unfreeze']?.status === 'failed' ? s : null;
    }, 30_000);
    expect(final.steps['rb-unfreeze']?.error ?? null).toBeNull();
    expect(final.status).toBe('rolled_back');
    expect(final.steps['rb-unfreeze']?.result?.summary).toContain('back in service');
    expect(await appWrite('after the rollback')).toBe('written');
  }, 120_000);
});
