import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult } from '../../engine/action.js';
import { actionImplOf, createActions } from '../../engine/actions/index.js';
import { ConnectionRegistry } from '../../engine/connections.js';
import { ensureKgvSample } from '../../engine/sample/kgv/index.js';
import { readBackup, type CatalogueEntry } from '../../runbook/backups.js';
import { loadRunbook, type Runbook } from '../../runbook/load.js';
import type { StepDoc } from '../../runbook/schema.js';
import { REPO, TEST_DATABASE_URL } from '../support/cutover-processes.js';

/**
 * The two rollback scenarios of kgv-local.yaml that need a go-live, run
 * through the engine the way the worker runs them (the run's backup
 * catalogue and go-live time handed to each step): after the forward steps,
 * the application writes a row; the post-go-live rollback switches back and
 * exports that row as T-SQL; the emergency rollback restores the go-live
 * backup. (The pre-go-live scenario runs through Slack in e2e/kgv-local.test.ts.)
 */
const DATABASE = `kgv_local_rb_${process.pid}`;
const databaseUrl = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${DATABASE}` }).toString();
const RUN = 'kgv-local-rb';
const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
admin.on('error', () => undefined);
let db: pg.Pool;
let work: string;
let runbook: Runbook;
const backups: CatalogueEntry[] = [];
const actions = createActions({ connections: (specs, log) => new ConnectionRegistry(specs, log) });
let goLiveAt: string | undefined;

/** Runs one step's action as the worker would, keeping the run's catalogue and go-live time. */
async function runStep(step: StepDoc): Promise<ActionResult> {
  const connections = new ConnectionRegistry(runbook.doc.connections);
  try {
    const impl = actionImplOf(actions.impls, step.action);
    if (!impl) throw new Error(`no action ${step.action}`);
    const result = await impl.run(
      { runId: RUN, stepId: step.id, attempt: 1, dryRun: false, effectKey: null, connections, sqlDir: join(REPO, 'sql'), signal: new AbortController().signal, progress: () => {}, stepRecord: () => null, log: pino({ level: 'silent' }), backups, ...(goLiveAt ? { goLiveAt } : {}) },
      runbook.params[step.id],
    );
    const backup = readBackup(result.details);
    if (backup) backups.push({ id: step.id, kind: backup.kind, file: backup.file, bytes: backup.bytes, sha256: backup.sha256, verified: backup.verified, at: Date.now() });
    if (typeof result.details?.['goLiveAt'] === 'string') goLiveAt = result.details['goLiveAt'];
    return result;
  } finally {
    await connections.close();
  }
}

const scenario = (id: string): StepDoc[] => runbook.doc.rollback[id]?.steps ?? [];
const one = async (sql: string): Promise<unknown> => Object.values((await db.query(sql)).rows[0] ?? {})[0];
const settings = () => one("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cutover-kgv-rb-'));
  const { dir } = await ensureKgvSample(join(work, 'kgv-sample'));
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  db = new pg.Pool({ connectionString: databaseUrl });
  // Rollback steps terminate the application's sessions (57P01): an idle pooled client of this test is among them.
  db.on('error', () => undefined);
  const file = join(REPO, 'config/runbooks/kgv-local.yaml');
  const loaded = loadRunbook({ name: 'kgv-local', file, text: await readFile(file, 'utf8'), env: { DATABASE_URL: databaseUrl, KGV_SAMPLE_DIR: dir, BACKUP_DIR: join(work, 'backups') } });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  runbook = loaded.runbook;
  for (const step of runbook.doc.phases.flatMap((p) => p.steps)) await runStep(step);
}, 180_000);

afterAll(async () => {
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
  await rm(work, { recursive: true, force: true });
});

describe('kgv-local.yaml after go-live', () => {
  it('post-go-live: switches the application back and exports what it wrote since go-live as a T-SQL replay script', async () => {
    expect(await settings()).toBe('datasource=postgresql,maintenance_mode=off');
    expect(backups.map((b) => b.id)).toEqual(['backup-before', 'golive-backup']);
    // The application, now on PostgreSQL, takes a new application and updates an old one.
    await db.query(`INSERT INTO kgv.applications (last_name, first_name, application_date, is_active) VALUES ('Nachzügler', 'Grete', now(), true)`);
    await db.query(`UPDATE kgv.applications SET notes = 'nach Go-live geändert' WHERE legacy_id = 3`);

    const results = [];
    for (const step of scenario('post-go-live')) results.push(await runStep(step));
    expect(await settings()).toBe('datasource=mssql,maintenance_mode=off');
    expect(results[1]?.details?.['counts']).toMatchObject({
      'kgv.applications': { source: 'dbo.Antrag', upserts: 2, deletes: 0 },
      'kgv.application_history': { source: 'dbo.Verlauf', upserts: 0, deletes: 0 },
    });
    // Mapped back to the legacy columns: the updated row under its an_ID, the new one numbered by SQL Server.
    const tsql = await readFile(join(work, 'backups', 'since-go-live', 'rollback-since-golive.sql'), 'utf8');
    expect(tsql).toMatch(/MERGE \[dbo\]\.\[Antrag\][^;]*\n {2}\(3, [^;]*N'nach Go-live geändert'/);
    expect(tsql).toContain("INSERT INTO [dbo].[Antrag] ([an_Aktenzeichen], ");
    expect(tsql).toContain("N'Nachzügler'");
    expect(tsql).not.toContain('last_name');
  });

  it('emergency: restores the go-live backup, so the application is back at its go-live state', async () => {
    for (const step of scenario('emergency')) await runStep(step);
    expect(await settings()).toBe('datasource=postgresql,maintenance_mode=off');
    expect(await one("SELECT count(*)::int FROM kgv.applications WHERE last_name = 'Nachzügler'")).toBe(0);
    expect(await one('SELECT count(*)::int FROM kgv.applications')).toBe(3999);
    expect(await one('SELECT notes FROM kgv.applications WHERE legacy_id = 3')).not.toBe('nach Go-live geändert');
  });
});
