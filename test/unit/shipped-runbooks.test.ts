import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide } from '../../runbook/decide.js';
import { loadRunbook } from '../../runbook/load.js';
import { fillPlaceholders } from '../support/fill-placeholders.js';

const DIR = 'config/runbooks';
/** What an operator sets for the KGV runbook (README, kgv.yaml header). */
const KGV_ENV = {
  KGV_SOURCE_URL: 'mssql://migrator:secret@sqlserver:1433/kgv',
  KGV_TARGET_URL: 'postgres://migrator:secret@pg:5432/kgv_production',
  KGV_LEAD: 'U0KGVLEAD',
  KGV_DBA: 'U0KGVDBA',
  KGV_OWNER: 'U0KGVOWNER',
  KGV_ROLLBACK_AUTHORITY: 'U0KGVRB',
  // kgv-local.yaml: local mode sets it to the PostgreSQL it uses.
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kgv_rehearsal',
};

/** What a site writes where kgv.yaml says FILL IN: seed 000's own commands. */
const KGV_SITE: Record<string, string[]> = {
  'rollback.post-go-live.steps[1].params.argv[0]': ['systemctl', 'stop', 'kgv-application'],
  'rollback.post-go-live.steps[6].params.argv[0]': ['systemctl', 'start', 'kgv-application'],
};

/** A shipped runbook as its site runs it: kgv.yaml with its placeholders filled in. */
function shippedText(file: string): string {
  const text = readFileSync(join(DIR, file), 'utf8');
  return file === 'kgv.yaml' ? fillPlaceholders(text, (path) => KGV_SITE[path]) : text;
}
const kgvText = () => shippedText('kgv.yaml');

describe('runbooks shipped in config/runbooks', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

  it.each(files)('%s loads with its documented environment and names only sql files that exist', (file) => {
    const result = loadRunbook({ name: file.replace(/\.yaml$/, ''), file: join(DIR, file), text: shippedText(file), env: KGV_ENV });
    expect(result.ok ? [] : result.problems).toEqual([]);
    if (!result.ok) return;
    for (const params of Object.values(result.runbook.params)) {
      const sqlFile = (params as { file?: string } | undefined)?.file;
      if (sqlFile) expect(existsSync(join('sql', sqlFile)), `sql/${sqlFile}`).toBe(true);
    }
  });

  it.each(files)('%s can be started by everyone its permissions allow, without a quorum they would block', (file) => {
    const result = loadRunbook({ name: file.replace(/\.yaml$/, ''), file, text: shippedText(file), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const plan = result.runbook.plan;
    const starters = (plan.permissions.start ?? Object.keys(plan.roles)).flatMap((r) => plan.roles[r]?.members ?? []);
    expect(starters.length).toBeGreaterThan(0);
    for (const id of starters) {
      const decision = decide(null, { type: 'start', at: 0, actor: { id }, runId: 'r', channel: 'C1', dryRun: false, plan, runbookFile: file, runbookText: '' });
      expect(decision.ok ? 'ok' : decision.message, `${id} starting ${file}`).toBe('ok');
    }
  });

  it('kgv follows seed 000: seven phases planned 30/45/60/30/20/45/30 minutes and three rollback scenarios', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.runbook.plan.phases.map((p) => (p.plannedSeconds ?? 0) / 60)).toEqual([30, 45, 60, 30, 20, 45, 30]);
    expect(result.runbook.plan.rollbackScenarios.map((s) => s.id)).toEqual(['pre-go-live', 'post-go-live', 'emergency']);
  });

  it('kgv schedules seed 000\'s post-migration duties: Day 1, Week 1 and Month 1, each for a role', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const days = (result.runbook.plan.followUps ?? []).map((f) => [f.id, f.afterSeconds / 86_400, f.role]);
    expect(days).toEqual([
      ['day1-monitor', 1, 'dba'],
      ['day1-backup', 1, 'dba'],
      ['week1-tuning', 7, 'dba'],
      ['week1-feedback', 7, 'owner'],
      ['month1-review', 30, 'dba'],
      ['month1-archive', 30, 'lead'],
    ]);
  });

  it('kgv freezes the source before extracting, and every rollback scenario puts it back in service before anything else (issue 8)', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const steps = result.runbook.plan.phases.flatMap((p) => p.steps);
    const ids = steps.map((s) => s.id);
    expect(ids.indexOf('freeze-source')).toBeLessThan(ids.indexOf('extract-tables'));
    expect(result.runbook.params['freeze-source']).toMatchObject({ connection: 'source', set_read_only: true });
    for (const scenario of result.runbook.plan.rollbackScenarios) {
      expect(scenario.steps?.[0]?.action, scenario.id).toBe('unfreeze.source');
    }
  });

  it('kgv goes live through the switch action, only on green validation and a verified SQL Server backup, and its rollbacks use the engine (issue 5)', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const steps = result.runbook.plan.phases.flatMap((p) => p.steps);
    const ids = steps.map((s) => s.id);
    const go = steps.find((s) => s.id === 'switch-config');
    expect(go).toMatchObject({ action: 'switch', gate: 'validation', requires: ['backup.source-backup'] });
    expect(steps.find((s) => s.id === 'source-backup')?.action).toBe('backup.mssql');
    expect(ids.indexOf('source-backup')).toBeLessThan(ids.indexOf('freeze-source'));
    expect(result.runbook.params['golive-backup']).toMatchObject({ connection: 'target', checkpoint: true });
    const actions = Object.fromEntries(result.runbook.plan.rollbackScenarios.map((r) => [r.id, (r.steps ?? []).map((s) => s.action)]));
    expect(actions['pre-go-live']).toEqual(['unfreeze.source', 'rollback.truncate_loaded', 'sql', 'rollback.verify_source']);
    expect(actions['post-go-live']).toContain('rollback.export_since_golive');
    expect(actions['emergency']).toContain('restore.postgres');
  });

  it('kgv times seed 000\'s waiting-list query on SQL Server before the night and checks it on PostgreSQL in 5.2, before the gated switch', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const ids = result.runbook.plan.phases.flatMap((p) => p.steps).map((s) => s.id);
    expect(ids.indexOf('query-baseline')).toBeLessThan(ids.indexOf('freeze-source'));
    expect(ids.indexOf('critical-queries')).toBeLessThan(ids.indexOf('switch-config'));
    expect(result.runbook.params['critical-queries']).toMatchObject({ baseline_step: 'query-baseline', tolerance: 0.1 });
    expect(result.runbook.params['query-baseline']).toMatchObject({ queries: [{ name: 'waiting-list' }] });
  });

  it('kgv as shipped refuses to load until the site writes its stop and restart commands, naming each placeholder (issue 13)', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: readFileSync(join(DIR, 'kgv.yaml'), 'utf8'), env: KGV_ENV });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(Object.keys(KGV_SITE));
    expect(result.problems.every((p) => p.message.startsWith('placeholder not filled in: the command that st'))).toBe(true);
  });

  it('kgv\'s post-go-live rollback follows seed 000: stop the application, switch it back, export and replay what it wrote, check SQL Server answers, restart it (issue 13)', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const steps = result.runbook.plan.rollbackScenarios.find((s) => s.id === 'post-go-live')?.steps ?? [];
    expect(steps.map((s) => s.id)).toEqual(['rb2-unfreeze', 'rb2-stop-app', 'rb2-switch-back', 'rb2-new-data', 'rb2-replay', 'rb2-verify-source', 'rb2-restart-app']);
    expect(result.runbook.params['rb2-stop-app']).toMatchObject({ argv: ['systemctl', 'stop', 'kgv-application'] });
    expect(result.runbook.params['rb2-restart-app']).toMatchObject({ argv: ['systemctl', 'start', 'kgv-application'] });
    expect(result.runbook.params['rb2-verify-source']).toMatchObject({ source: 'source', sql: expect.stringContaining("an_Aktiv = '1'") });
  });

  it('kgv validates the target model the application reads, against the staged rows, before the go-live gate (issue 13)', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: KGV_ENV });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const ids = result.runbook.plan.phases.flatMap((p) => p.steps).map((s) => s.id);
    expect(ids.indexOf('transform')).toBeLessThan(ids.indexOf('check-target-totals'));
    expect(ids.indexOf('check-target-totals')).toBeLessThan(ids.indexOf('quality-signoff'));
    expect(result.runbook.params['check-target-integrity']).toMatchObject({ target: 'target', schema: 'public' });
    const totals = result.runbook.params['check-target-totals'] as { source: string; target: string; totals: Array<{ name: string; source_sql: string; target_sql: string }> };
    expect(totals).toMatchObject({ source: 'staging', target: 'target' });
    expect(totals.totals.map((t) => t.name)).toEqual(expect.arrayContaining(['applications', 'active_applications', 'application_history', 'districts', 'entry_fees_sum']));
    for (const t of totals.totals) {
      expect(t.source_sql, t.name).toContain('migration_staging.');
      expect(t.target_sql, t.name).toContain('public.');
    }
  });

  it('kgv without its environment names every missing variable instead of starting', () => {
    const result = loadRunbook({ name: 'kgv', file: 'kgv.yaml', text: kgvText(), env: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toContain('connections.source.url');
    expect(result.problems.every((p) => p.message.includes('is not set'))).toBe(true);
  });
});
