import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureKgvSample } from '../../engine/sample/kgv/index.js';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import { loadRunbook, type Runbook } from '../../runbook/load.js';
import type { RunState } from '../../runbook/state.js';
import { readValidation } from '../../runbook/validation-result.js';
import { createInstallation, eventually, REPO, SIGNING_SECRET, TEST_DATABASE_URL, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, click, ephemeralTexts, migrate, migrateConfirmed } from '../support/cutover-slack.js';
import { buttonsIn, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { sendBlockAction } from '../../workspace/signed-requests.js';

/**
 * config/runbooks/kgv-local.yaml as shipped, through the fake Slack with
 * real web and worker processes, against the KGV sample and a PostgreSQL
 * database of its own (DATABASE_URL), as local mode runs it. A team
 * rehearses twice on one database: the first attempt is rolled back before
 * go-live, the second runs to completion.
 */
const RUNBOOK_FILE = join(REPO, 'config/runbooks/kgv-local.yaml');
const DATABASE = `kgv_local_e2e_${process.pid}`;
const databaseUrl = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${DATABASE}` }).toString();
const OUTSIDER = 'U0KGVOUTSIDER';

const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
let db: pg.Pool;
let fake: FakeSlack;
let inst: Installation;
let work: string;
let runbook: Runbook;
let sampleDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cutover-kgv-local-'));
  sampleDir = (await ensureKgvSample(join(work, 'kgv-sample'))).dir;
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  db = new pg.Pool({ connectionString: databaseUrl });
  const text = await readFile(RUNBOOK_FILE, 'utf8');
  const env = { DATABASE_URL: databaseUrl, KGV_SAMPLE_DIR: sampleDir, BACKUP_DIR: join(work, 'backups') };
  const loaded = loadRunbook({ name: 'kgv-local', file: RUNBOOK_FILE, text, env });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  runbook = loaded.runbook;
  fake = await startFakeSlack();
  inst = await createInstallation(fake.apiUrl, { 'kgv-local': text });
  await inst.startWeb(env);
  await inst.startWorker(env);
}, 120_000);

afterAll(async () => {
  await inst?.cleanup();
  await fake?.close();
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
  await rm(work, { recursive: true, force: true });
});

const forwardSteps = () => runbook.plan.phases.flatMap((p) => p.steps);
const scenarioSteps = (id: string) => runbook.plan.rollbackScenarios.find((s) => s.id === id)?.steps ?? [];
const one = async (sql: string): Promise<unknown> => Object.values((await db.query(sql)).rows[0] ?? {})[0];

/** Who approves a step: as many members of its role as it needs, skipping the person who started the run. */
function approversOf(stepId: string, startedBy: string): string[] {
  const step = [...forwardSteps(), ...runbook.plan.rollbackScenarios.flatMap((sc) => sc.steps)].find((s) => s?.id === stepId);
  const role = runbook.plan.roles[step?.approve ?? ''];
  if (!role) throw new Error(`no role for ${stepId}`);
  const members = role.requesterMayApprove ? role.members : role.members.filter((m) => m !== startedBy);
  return members.slice(0, role.minApprovals);
}

/** Approves a step as its role and waits until the worker finished it; a failure shows the step's error. */
async function approveAndRun(runId: string, stepId: string, startedBy: string): Promise<RunState> {
  for (const user of approversOf(stepId, startedBy)) await click(fake, inst.botUrl, user, stepId, 'approve');
  return eventually(async () => {
    const state = await inst.state(runId);
    const step = state?.steps[stepId];
    if (step?.status === 'failed') throw new Error(`${stepId} failed: ${step.error?.message}`);
    return step?.status === 'succeeded' ? state : null;
  }, 120_000, `${stepId} succeeded`);
}

async function clickRollback(userId: string) {
  const found = await fake.waitFor(() => {
    for (const message of fake.messages.all({ channel: CHANNEL })) {
      const button = buttonsIn(message.blocks).find((b) => b.actionId === 'rollback.approve');
      if (button?.value && button.blockId) return { message, button };
    }
    return undefined;
  });
  return sendBlockAction(inst.botUrl, SIGNING_SECRET, {
    userId, channelId: CHANNEL, messageTs: found.message.ts, threadTs: found.message.threadTs, actionId: 'rollback.approve', blockId: found.button.blockId ?? '', value: found.button.value ?? '',
  });
}

describe('kgv-local.yaml rehearsed twice on one database through Slack', () => {
  it('first attempt: started by a DBA (the other DBA approves), loaded with two rows quarantined, then rolled back before go-live', async () => {
    const starter = 'U0KGVDBA2';
    await migrate(inst.botUrl, starter, 'start kgv-local');
    const runId = await eventually(() => inst.activeRunId('kgv-local'));

    await click(fake, inst.botUrl, OUTSIDER, 'checklist', 'approve');
    expect(await fake.waitFor(() => ephemeralTexts(fake, OUTSIDER).find((t) => t.includes('not in the role')))).toContain('Migration lead');
    await approveAndRun(runId, 'checklist', starter);
    // The DBA who started the run may not approve DBA steps: separation of duties.
    await click(fake, inst.botUrl, starter, 'prechecks', 'approve');
    await fake.waitFor(() => ephemeralTexts(fake, starter).find((t) => t.includes('separation of duties')));

    const upToLoad = forwardSteps().map((s) => s.id);
    for (const id of upToLoad.slice(1, upToLoad.indexOf('load-staging') + 1)) await approveAndRun(runId, id, starter);
    expect(await one('SELECT count(*)::int FROM migration_staging.antrag')).toBe(3999);

    await migrateConfirmed(fake, inst.botUrl, 'U0KGVLEAD1', 'rollback pre-go-live rehearsal: stop after the load');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'requested');
    await clickRollback('U0KGVRB1');
    await eventually(async () => (await inst.state(runId))?.rollback?.status === 'running');
    for (const step of scenarioSteps('pre-go-live')) await approveAndRun(runId, step.id, starter);
    const final = await eventually(async () => {
      const s = await inst.state(runId);
      return s?.status === 'rolled_back' ? s : null;
    }, 30_000);
    expect(final.rollback).toMatchObject({ scenario: 'pre-go-live', requestedBy: 'U0KGVLEAD1' });
    expect(await one('SELECT count(*)::int FROM migration_staging.antrag')).toBe(0);
    expect(await one("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings")).toBe('datasource=mssql,maintenance_mode=off');
    expect(await one("SELECT count(*)::int FROM migration_staging.migration_log WHERE status = 'CANCELLED'")).toBe(1);
  }, 600_000);

  it('second attempt: every step approved by its role (go-live 2 of 2), green validation, the switch flips the settings, the report is posted', async () => {
    const lead = 'U0KGVLEAD1';
    await migrate(inst.botUrl, lead, 'start kgv-local');
    const runId = await eventually(async () => {
      const id = await inst.activeRunId('kgv-local').catch(() => null);
      return id && (await inst.state(id))?.status === 'active' ? id : null;
    });
    let state: RunState | null = null;
    for (const step of forwardSteps()) {
      if (step.id === 'switch-to-postgres') {
        // N of M: one owner's approval is not enough to go live.
        await click(fake, inst.botUrl, 'U0KGVOWNER1', step.id, 'approve');
        await eventually(async () => (await inst.state(runId))?.steps[step.id]?.approvals.length === 1);
        expect((await inst.state(runId))?.steps[step.id]?.status).toBe('awaiting_approval');
        await click(fake, inst.botUrl, 'U0KGVOWNER2', step.id, 'approve');
        state = await eventually(async () => {
          const s = await inst.state(runId);
          if (s?.steps[step.id]?.status === 'failed') throw new Error(`${step.id} failed: ${s.steps[step.id]?.error?.message}`);
          return s?.steps[step.id]?.status === 'succeeded' ? s : null;
        }, 60_000);
        continue;
      }
      state = await approveAndRun(runId, step.id, lead);
    }
    const done = await eventually(async () => {
      const s = await inst.state(runId);
      return s?.status === 'completed' ? s : null;
    }, 30_000);

    // The load: extract rows = loaded + quarantined, the NUL byte and the year-0 date kept aside with their reasons.
    expect(done.steps['load-staging']?.result?.details).toMatchObject({ rows: 23_853, quarantined: 2 });
    const quarantine = await db.query<{ table_name: string; reason: string }>('SELECT table_name, reason FROM cutover_etl.quarantine WHERE load_id = $1 ORDER BY table_name', [`${runId}/load-staging`]);
    expect(quarantine.rows).toEqual([
      { table_name: 'migration_staging.antrag', reason: 'year 0 outside 1..9999' },
      { table_name: 'migration_staging.verlauf', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it' },
    ]);

    // Seed 001's target model holds every row the load took.
    const manifest = (await SnapshotSource.open(sampleDir)).manifest;
    const rowsOf = (name: string) => manifest.tables.find((t) => t.mapping.source.name === name)?.rows;
    expect(await one('SELECT count(*)::int FROM kgv.applications')).toBe(rowsOf('Antrag'));
    expect(rowsOf('Antrag')).toBe(3999);
    expect(await one('SELECT count(*)::int FROM kgv.application_history')).toBe(rowsOf('Verlauf'));
    expect(await one('SELECT count(*)::int FROM kgv.districts')).toBe(12);
    expect(await one('SELECT count(*)::int FROM kgv.file_references')).toBe(rowsOf('Aktenzeichen'));
    expect(await one('SELECT count(*)::int FROM kgv.entry_numbers')).toBe(3000);
    expect(await one("SELECT count(*)::int FROM kgv.applications WHERE id::text ~ '^[0-9a-f]{8}-'")).toBe(3999);

    // Every validation green, so the gate let the sign-off and the switch through without an override.
    const validations = forwardSteps().filter((s) => s.action.startsWith('validate.'));
    expect(validations.map((s) => [s.id, readValidation(done.steps[s.id]?.result?.details)?.verdict])).toEqual(validations.map((s) => [s.id, 'green']));
    expect(done.steps['quality-signoff']?.override ?? null).toBeNull();
    expect(done.steps['switch-to-postgres']?.approvals.map((a) => a.by).sort()).toEqual(['U0KGVOWNER1', 'U0KGVOWNER2']);
    expect(await one("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings")).toBe('datasource=postgresql,maintenance_mode=off');

    // Two verified backups (before the migration, at go-live); the end-of-run report in the thread.
    expect((await readdir(join(work, 'backups'))).filter((f) => f.startsWith(runId) && f.endsWith('.dump'))).toHaveLength(2);
    const names = ['report.md', 'audit.json', 'timeline.png'].map((n) => `${runId}-${n}`);
    const files = await fake.waitFor(() => {
      const mine = [...fake.files.values()].filter((f) => f.completed && names.includes(f.filename));
      return mine.length === 3 ? mine : undefined;
    }, 30_000);
    // After each validation step, its reconciliation report was uploaded too.
    expect([...fake.files.values()].filter((f) => f.filename.startsWith(`${runId}-reconciliation-`) && f.filename.endsWith('.json'))).toHaveLength(validations.length);
    const report = files.find((f) => f.filename.endsWith('-report.md'))?.bytes?.toString('utf8') ?? '';
    expect(report).toContain('Transform into the target model');
    expect(report).toContain('2 rows quarantined with their reasons');
    expect(state).not.toBeNull();
  }, 600_000);
});
