import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readValidation } from '../../runbook/validation-result.js';
import { REPO } from '../support/cutover-processes.js';
import { startKgvLocalRehearsal, type KgvLocalRehearsal } from '../support/kgv-local-rehearsal.js';

/**
 * Issue 13, point 4: kgv-local.yaml must rehearse again and again on one
 * database. Its pre-go-live rollback failed on any rehearsal after a
 * completed one: the setup inserted the application's `datasource` setting
 * only when missing, so it stayed 'postgresql' and the rollback's check that
 * the application still reads SQL Server could never pass. Here one team, on
 * one database, through Slack with real web and worker processes: completes
 * the runbook, completes it again, then runs each rollback scenario in a run of
 * its own — pre-go-live, post-go-live, emergency. Slow (five rehearsals): run
 * it alone.
 */
const LEAD = 'U0KGVLEAD1';

/** kgv.yaml's totals of the target model (step check-target-totals), read from the file as shipped. */
function kgvTargetTotals(): Array<{ name: string; source_sql: string; target_sql: string }> {
  const doc = parse(readFileSync(join(REPO, 'config/runbooks/kgv.yaml'), 'utf8'), { merge: true }) as { phases: Array<{ steps: Array<{ id: string; params?: { totals?: Array<{ name: string; source_sql: string; target_sql: string }> } }> }> };
  const totals = doc.phases.flatMap((p) => p.steps).find((s) => s.id === 'check-target-totals')?.params?.totals ?? [];
  expect(totals.length).toBeGreaterThan(5);
  return totals;
}
const SETTINGS = "SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings";
let r: KgvLocalRehearsal;

beforeAll(async () => {
  r = await startKgvLocalRehearsal('kgv_local_again');
}, 180_000);

afterAll(async () => {
  await r?.cleanup();
});

/** Runs every forward step and waits for the run to complete. */
async function complete(): Promise<string> {
  const runId = await r.start(LEAD);
  const last = r.forwardSteps().at(-1)?.id ?? '';
  await r.runThrough(runId, last, LEAD);
  const done = await r.inst.state(runId);
  expect(done?.status).toBe('completed');
  const validations = r.forwardSteps().filter((s) => s.action.startsWith('validate.'));
  expect(validations.map((s) => [s.id, readValidation(done?.steps[s.id]?.result?.details)?.verdict])).toEqual(validations.map((s) => [s.id, 'green']));
  expect(done?.steps['load-staging']?.result?.details).toMatchObject({ rows: 23_853, quarantined: 2 });
  expect(await r.one('SELECT count(*)::int FROM kgv.applications')).toBe(3999);
  expect(await r.one(SETTINGS)).toBe('datasource=postgresql,maintenance_mode=off');
  return runId;
}

describe('kgv-local.yaml rehearsed again and again on one database (issue 13)', () => {
  it('completes, then completes again on what the first run left', async () => {
    await complete();
    const second = await complete();
    // kgv.yaml (the real night) checks the same target model with its own totals (4.6): on a correct transform each holds.
    for (const t of kgvTargetTotals()) {
      expect(String(await r.one(t.target_sql.replaceAll('public.', 'kgv.'))), t.name).toBe(String(await r.one(t.source_sql)));
    }
    // The second run made its own two backups; nothing of the first was reused.
    expect((await readdir(join(r.work, 'backups'))).filter((f) => f.startsWith(second) && f.endsWith('.dump'))).toHaveLength(2);
  }, 1_200_000);

  it('pre-go-live rollback after two completed rehearsals: loaded and transformed, then emptied, and the application still on SQL Server', async () => {
    const runId = await r.start(LEAD);
    // The setup puts the application back where a cutover night starts: on SQL Server, out of maintenance until 1.x turns it on.
    await r.runThrough(runId, 'init-schemas', LEAD);
    expect(await r.one(SETTINGS)).toBe('datasource=mssql,maintenance_mode=off');
    await r.runThrough(runId, 'transform', LEAD);
    expect(await r.one('SELECT count(*)::int FROM kgv.applications')).toBe(3999);

    const final = await r.rollBack(runId, 'pre-go-live', LEAD, LEAD);
    expect(final.rollback).toMatchObject({ scenario: 'pre-go-live', status: 'done' });
    expect(await r.one('SELECT count(*)::int FROM migration_staging.antrag')).toBe(0);
    expect(await r.one('SELECT count(*)::int FROM kgv.applications')).toBe(0);
    expect(await r.one(SETTINGS)).toBe('datasource=mssql,maintenance_mode=off');
  }, 900_000);

  it('post-go-live rollback: after the switch the application writes a row; switched back, what it wrote exported, restarted on SQL Server', async () => {
    const runId = await r.start(LEAD);
    await r.runThrough(runId, 'app-queries', LEAD);
    expect(await r.one(SETTINGS)).toBe('datasource=postgresql,maintenance_mode=off');
    await r.db.query(`INSERT INTO kgv.applications (last_name, first_name, application_date, is_active) VALUES ('Nachzügler', 'Grete', now(), true)`);

    const final = await r.rollBack(runId, 'post-go-live', LEAD, LEAD);
    expect(final.rollback).toMatchObject({ scenario: 'post-go-live', status: 'done' });
    expect(final.steps['rb2-export']?.status).toBe('succeeded');
    expect(await r.one(SETTINGS)).toBe('datasource=mssql,maintenance_mode=off');
  }, 900_000);

  it('emergency rollback: after go-live, the last good backup of this run is restored over what the application wrote', async () => {
    const runId = await r.start(LEAD);
    await r.runThrough(runId, 'backup-before', LEAD);
    // What the backup holds: the target as the previous rehearsal left it (its late application included).
    const backedUp = await r.one('SELECT count(*)::int FROM kgv.applications');
    await r.runThrough(runId, 'switch-to-postgres', LEAD);
    await r.db.query(`INSERT INTO kgv.applications (last_name, first_name, application_date, is_active) VALUES ('Notfall', 'Otto', now(), true)`);

    const final = await r.rollBack(runId, 'emergency', LEAD, LEAD);
    expect(final.rollback).toMatchObject({ scenario: 'emergency', status: 'done' });
    // No go-live checkpoint in this run yet, so its backup before the migration: the application on SQL Server, in maintenance.
    expect(final.steps['rb3-restore']?.result?.summary).toContain('backup-before');
    expect(await r.one("SELECT count(*)::int FROM kgv.applications WHERE last_name = 'Notfall'")).toBe(0);
    expect(await r.one('SELECT count(*)::int FROM kgv.applications')).toBe(backedUp);
    expect(await r.one(SETTINGS)).toBe('datasource=mssql,maintenance_mode=on');
  }, 900_000);
});
