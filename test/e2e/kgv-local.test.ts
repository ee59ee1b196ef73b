import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotSource } from '../../engine/snapshot/reader.js';
import type { RunState } from '../../runbook/state.js';
import { readValidation } from '../../runbook/validation-result.js';
import { eventually } from '../support/cutover-processes.js';
import { click, ephemeralTexts, migrate } from '../support/cutover-slack.js';
import { startKgvLocalRehearsal, type KgvLocalRehearsal } from '../support/kgv-local-rehearsal.js';

/**
 * config/runbooks/kgv-local.yaml as shipped, through the fake Slack with
 * real web and worker processes, against the KGV sample and a PostgreSQL
 * database of its own (DATABASE_URL), as local mode runs it. A team
 * rehearses twice on one database: the first attempt is rolled back before
 * go-live, the second runs to completion.
 */
const OUTSIDER = 'U0KGVOUTSIDER';
let r: KgvLocalRehearsal;

beforeAll(async () => {
  r = await startKgvLocalRehearsal('kgv_local_e2e');
}, 180_000);

afterAll(async () => {
  await r?.cleanup();
});

describe('kgv-local.yaml rehearsed twice on one database through Slack', () => {
  it('first attempt: started by a DBA (the other DBA approves), loaded with two rows quarantined, then rolled back before go-live', async () => {
    const starter = 'U0KGVDBA2';
    await migrate(r.inst.botUrl, starter, 'start kgv-local');
    const runId = await eventually(() => r.inst.activeRunId('kgv-local'));

    await click(r.fake, r.inst.botUrl, OUTSIDER, 'checklist', 'approve');
    expect(await r.fake.waitFor(() => ephemeralTexts(r.fake, OUTSIDER).find((t) => t.includes('not in the role')))).toContain('Migration lead');
    await r.approveAndRun(runId, 'checklist', starter);
    // The DBA who started the run may not approve DBA steps: separation of duties.
    await click(r.fake, r.inst.botUrl, starter, 'prechecks', 'approve');
    await r.fake.waitFor(() => ephemeralTexts(r.fake, starter).find((t) => t.includes('separation of duties')));

    const upToLoad = r.forwardSteps().map((s) => s.id);
    for (const id of upToLoad.slice(1, upToLoad.indexOf('load-staging') + 1)) await r.approveAndRun(runId, id, starter);
    expect(await r.one('SELECT count(*)::int FROM migration_staging.antrag')).toBe(3999);

    const final = await r.rollBack(runId, 'pre-go-live', 'U0KGVLEAD1', starter);
    expect(final.rollback).toMatchObject({ scenario: 'pre-go-live', requestedBy: 'U0KGVLEAD1' });
    expect(await r.one('SELECT count(*)::int FROM migration_staging.antrag')).toBe(0);
    expect(await r.one("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings")).toBe('datasource=mssql,maintenance_mode=off');
    expect(await r.one("SELECT count(*)::int FROM migration_staging.migration_log WHERE status = 'CANCELLED'")).toBe(1);
  }, 600_000);

  it('second attempt: every step approved by its role (go-live 2 of 2), green validation, the switch flips the settings, the report is posted', async () => {
    const lead = 'U0KGVLEAD1';
    await migrate(r.inst.botUrl, lead, 'start kgv-local');
    const runId = await eventually(async () => {
      const id = await r.inst.activeRunId('kgv-local').catch(() => null);
      return id && (await r.inst.state(id))?.status === 'active' ? id : null;
    });
    let state: RunState | null = null;
    for (const step of r.forwardSteps()) {
      if (step.id === 'switch-to-postgres') {
        // N of M: one owner's approval is not enough to go live.
        await click(r.fake, r.inst.botUrl, 'U0KGVOWNER1', step.id, 'approve');
        await eventually(async () => (await r.inst.state(runId))?.steps[step.id]?.approvals.length === 1);
        expect((await r.inst.state(runId))?.steps[step.id]?.status).toBe('awaiting_approval');
        await click(r.fake, r.inst.botUrl, 'U0KGVOWNER2', step.id, 'approve');
        state = await eventually(async () => {
          const s = await r.inst.state(runId);
          if (s?.steps[step.id]?.status === 'failed') throw new Error(`${step.id} failed: ${s.steps[step.id]?.error?.message}`);
          return s?.steps[step.id]?.status === 'succeeded' ? s : null;
        }, 60_000);
        continue;
      }
      if (step.id === 'quality-signoff') {
        // The gate asks the lead to confirm the quarantined rows were reviewed: its message lists them (key, column, reason),
        // and the reconciliation report it rests on is posted above it, once.
        const gate = await r.fake.waitFor(() => {
          const m = r.fake.messages.all().find((x) => x.text.startsWith('4.4 Acceptance of the quality report') && x.text.endsWith('waiting for approval'));
          return m && JSON.stringify(m.blocks).includes('Quarantined:') ? m : undefined;
        });
        const gateText = JSON.stringify(gate.blocks);
        expect(gateText).toContain('Quarantined: 2 rows by `load-staging`');
        expect(gateText).toMatch(/• `migration_staging\.antrag` [^`]+, column `[^`]+`: year 0 outside 1\.\.9999/);
        expect(gateText).toMatch(/• `migration_staging\.verlauf` [^`]+, column `[^`]+`: NUL byte \(0x00\) in text/);
        const report = r.fake.messages.all().find((m) => m.files.some((f) => f.filename === `${runId}-reconciliation.md`));
        expect(report?.text).toContain('for the go/no-go gate *4.4 Acceptance of the quality report');
        expect(report?.text).toContain('*Reconciliation:* 🟢 green');
        expect(Number(report?.ts)).toBeLessThan(Number(gate.ts));
      }
      state = await r.approveAndRun(runId, step.id, lead);
    }
    const done = await eventually(async () => {
      const s = await r.inst.state(runId);
      return s?.status === 'completed' ? s : null;
    }, 30_000);

    // The load: extract rows = loaded + quarantined, the NUL byte and the year-0 date kept aside with their reasons.
    expect(done.steps['load-staging']?.result?.details).toMatchObject({ rows: 23_853, quarantined: 2 });
    const quarantine = await r.db.query<{ table_name: string; reason: string }>('SELECT table_name, reason FROM cutover_etl.quarantine WHERE load_id = $1 ORDER BY table_name', [`${runId}/load-staging`]);
    expect(quarantine.rows).toEqual([
      { table_name: 'migration_staging.antrag', reason: 'year 0 outside 1..9999' },
      { table_name: 'migration_staging.verlauf', reason: 'NUL byte (0x00) in text: PostgreSQL cannot store it' },
    ]);
    // The load's thread message shows those rows to whoever signs off the quality report (issue 16).
    const loadMessage = await r.fake.waitFor(() => r.fake.messages.all().find((m) => m.text.startsWith('3.1 Load the snapshot') && m.text.endsWith(': done') && JSON.stringify(m.blocks).includes(`load_id = '${runId}/load-staging'`)));
    const shown = JSON.stringify(loadMessage.blocks);
    expect(shown).toContain('year 0 outside 1..9999');
    expect(shown).toContain('NUL byte (0x00) in text');
    expect(shown).toContain('*Quarantined rows* (2,');

    // Seed 001's target model holds every row the load took.
    const manifest = (await SnapshotSource.open(r.sampleDir)).manifest;
    const rowsOf = (name: string) => manifest.tables.find((t) => t.mapping.source.name === name)?.rows;
    expect(await r.one('SELECT count(*)::int FROM kgv.applications')).toBe(rowsOf('Antrag'));
    expect(rowsOf('Antrag')).toBe(3999);
    expect(await r.one('SELECT count(*)::int FROM kgv.application_history')).toBe(rowsOf('Verlauf'));
    expect(await r.one('SELECT count(*)::int FROM kgv.districts')).toBe(12);
    expect(await r.one('SELECT count(*)::int FROM kgv.file_references')).toBe(rowsOf('Aktenzeichen'));
    expect(await r.one('SELECT count(*)::int FROM kgv.entry_numbers')).toBe(3000);
    expect(await r.one("SELECT count(*)::int FROM kgv.applications WHERE id::text ~ '^[0-9a-f]{8}-'")).toBe(3999);

    // Every validation green, so the gate let the sign-off and the switch through without an override.
    const validations = r.forwardSteps().filter((s) => s.action.startsWith('validate.'));
    expect(validations.map((s) => [s.id, readValidation(done.steps[s.id]?.result?.details)?.verdict])).toEqual(validations.map((s) => [s.id, 'green']));
    expect(done.steps['quality-signoff']?.override ?? null).toBeNull();
    expect(done.steps['switch-to-postgres']?.approvals.map((a) => a.by).sort()).toEqual(['U0KGVOWNER1', 'U0KGVOWNER2']);
    expect(await r.one("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM kgv_app.settings")).toBe('datasource=postgresql,maintenance_mode=off');

    // Two verified backups (before the migration, at go-live); the end-of-run report in the thread.
    expect((await readdir(join(r.work, 'backups'))).filter((f) => f.startsWith(runId) && f.endsWith('.dump'))).toHaveLength(2);
    const names = ['report.md', 'audit.json', 'timeline.png'].map((n) => `${runId}-${n}`);
    const files = await r.fake.waitFor(() => {
      const mine = [...r.fake.files.values()].filter((f) => f.completed && names.includes(f.filename));
      return mine.length === 3 ? mine : undefined;
    }, 30_000);
    // The reconciliation report was posted once, with the sign-off gate: the switch's gate asked on the same evidence.
    // Each validation's message carries its one-line verdict instead.
    expect([...r.fake.files.values()].filter((f) => f.filename.startsWith(`${runId}-reconciliation`)).map((f) => f.filename).sort()).toEqual(
      [`${runId}-reconciliation-final.json`, `${runId}-reconciliation.json`, `${runId}-reconciliation.md`],
    );
    for (const v of validations) {
      const message = r.fake.messages.all().find((m) => m.text === `${v.title}: done`);
      expect(JSON.stringify(message?.blocks ?? [])).toContain('🟢 *green* — ');
    }
    const report = files.find((f) => f.filename.endsWith('-report.md'))?.bytes?.toString('utf8') ?? '';
    expect(report).toContain('Transform into the target model');
    expect(report).toContain('2 rows quarantined with their reasons');
    expect(state).not.toBeNull();
  }, 600_000);
});
