import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate } from '../support/cutover-slack.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { startE2E, stopE2E } from '../support/e2e-installation.js';

const S = `e2e_backup_${process.pid}`;
let fake: FakeSlack;
let inst: Installation;
let dir: string;
const db = new pg.Pool({ connectionString: TEST_DATABASE_URL });

/** create a table → back up its schema → go-live, which requires the verified backup. */
const runbook = (backupDir: string): string => `title: E2E backups ${S}
roles:
  lead: { title: Migration lead, members: [U0LEAD, U0LEAD2] }
  dba: { title: Database administrator, members: [U0DBA1, U0DBA2] }
connections:
  target: { kind: postgres, url: "\${TEST_DATABASE_URL}" }
phases:
  - id: go
    title: Go
    steps:
      - id: create
        title: Create table
        approve: dba
        action: sql
        params:
          connection: target
          sql: "DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.t AS SELECT g AS id FROM generate_series(1, 10) g"
      - id: pg-before-switch
        title: Back up the target
        approve: dba
        action: backup.postgres
        params: { connection: target, dir: "${backupDir}", schemas: [${S}], checkpoint: true }
      - id: golive
        title: Go live
        approve: lead
        action: manual
        requires: [backup.pg-before-switch]
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cutover-e2e-backup-'));
  ({ fake, inst } = await startE2E({ runbooks: { backed: runbook(dir) } }));
}, 60_000);

afterAll(async () => {
  await stopE2E({ inst, fake });
  await db.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
  await db.end();
  await rm(dir, { recursive: true, force: true });
});

describe('/migrate backups (issue 5)', () => {
  it('lists the verified backup the run made, and the step requiring it can then be approved', async () => {
    await migrate(inst.botUrl, 'U0LEAD', 'start backed');
    const runId = await eventually(() => inst.activeRunId('backed'));
    await click(fake, inst.botUrl, 'U0DBA1', 'create', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['create']?.status === 'succeeded', 20_000);

    await migrate(inst.botUrl, 'U0DBA2', 'backups');
    expect(await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA2').find((t) => t.includes('Backups of backed')))).toContain('No backup has been made in this run yet.');

    await click(fake, inst.botUrl, 'U0DBA1', 'pg-before-switch', 'approve');
    await eventually(async () => (await inst.state(runId))?.steps['pg-before-switch']?.status === 'succeeded', 30_000);
    const [file] = await readdir(dir);
    expect(file).toMatch(new RegExp(`^${runId}-pg-before-switch-\\d{8}T\\d{6}Z\\.dump$`));

    await migrate(inst.botUrl, 'U0LEAD', 'backups');
    const listed = await fake.waitFor(() => ephemeralTexts(fake, 'U0LEAD').find((t) => t.includes('Backups of backed')));
    expect(listed).toContain(`\`pg-before-switch\` · postgres · \`${path.join(dir, file ?? '')}\``);
    expect(listed).toContain('✅ verified');
    expect(fake.messages.inChannel(CHANNEL).some((m) => m.text.includes('Backups of backed'))).toBe(false);

    await click(fake, inst.botUrl, 'U0LEAD2', 'golive', 'approve');
    await eventually(async () => (await inst.state(runId))?.status === 'completed', 20_000);
  }, 90_000);
});
