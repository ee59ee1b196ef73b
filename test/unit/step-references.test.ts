import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadRunbook, type LoadResult } from '../../runbook/load.js';

/** A runbook that freezes its source and rolls back in two scenarios; each case changes one thing. */
const base = (): Record<string, any> => ({
  title: 'Freeze cutover',
  connections: { source: { kind: 'mssql', url: 'mssql://m@sql/kgv' }, target: { kind: 'postgres', url: 'postgres://m@pg/kgv' } },
  roles: { lead: { title: 'Lead', members: ['ULEAD'] }, dba: { title: 'DBA', members: ['UDBA1'] } },
  // The DBA deputises for the lead: a rollback the lead asks for must still be approvable.
  permissions: { rollback: ['lead', 'dba'] },
  phases: [
    {
      id: 'prep',
      title: 'Prep',
      steps: [
        { id: 'baseline', title: 'Query baseline', approve: 'dba', action: 'baseline.queries', params: { source: 'source', queries: [{ name: 'waiting-list', source_sql: 'SELECT TOP (100) * FROM dbo.Antrag', target_sql: 'SELECT * FROM antrag LIMIT 100' }] } },
        { id: 'freeze', title: 'Freeze', approve: 'dba', action: 'freeze.source', params: { connection: 'source', set_read_only: true } },
        { id: 'queries', title: 'Critical queries', approve: 'dba', action: 'validate.queries', params: { target: 'target', baseline_step: 'baseline' } },
      ],
    },
  ],
  rollback: {
    'pre-go-live': { title: 'Pre', approve: 'lead', steps: [{ id: 'rb1-unfreeze', title: 'Unfreeze', approve: 'dba', action: 'unfreeze.source', params: { freeze_step: 'freeze' } }] },
    emergency: { title: 'Emergency', approve: 'lead', steps: [{ id: 'rb3-unfreeze', title: 'Unfreeze', approve: 'dba', action: 'unfreeze.source', params: { freeze_step: 'freeze' } }] },
  },
});

const load = (change: (doc: Record<string, any>) => void = () => undefined): LoadResult => {
  const doc = base();
  change(doc);
  return loadRunbook({ name: 'f', file: 'f.yaml', text: stringify(doc), env: {} });
};
const problems = (r: LoadResult): string[] => (r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`));

describe('a freeze must be undone by every rollback scenario (checked at load)', () => {
  it('loads when each scenario unfreezes the freeze step', () => {
    expect(problems(load())).toEqual([]);
  });

  it('refuses a scenario without the unfreeze, naming the scenario, the step and what to add', () => {
    expect(problems(load((d) => (d.rollback.emergency.steps = [{ id: 'rb3', title: 'Restore', approve: 'dba', action: 'manual' }])))).toEqual([
      'rollback.emergency.steps: rollback scenario "emergency" does not undo step "freeze" (freeze.source changes the source): add a step with action: unfreeze.source and params: { freeze_step: freeze }, placed before the source is used again',
    ]);
  });

  it('refuses a freeze when the runbook has no rollback scenario at all', () => {
    expect(problems(load((d) => delete d.rollback))).toEqual([
      'phases[0].steps[1].action: freeze.source changes the source, and this runbook declares no rollback scenario that would undo it; declare the scenarios under rollback: and in each add a step with action: unfreeze.source and params: { freeze_step: freeze }',
    ]);
  });

  it('needs no unfreeze for a freeze that only lists sessions', () => {
    expect(problems(load((d) => {
      d.phases[0].steps[1].params = { connection: 'source', expect_no_sessions: true };
      delete d.rollback;
    }))).toEqual([]);
  });

  it('an unfreeze naming a step that is no freeze does not count, and says why', () => {
    const r = problems(load((d) => (d.rollback.emergency.steps[0].params.freeze_step = 'baseline')));
    expect(r).toContain('rollback.emergency.steps[0].params.freeze_step: step "baseline" runs baseline.queries, expected a freeze.source step');
    expect(r.some((p) => p.startsWith('rollback.emergency.steps: rollback scenario "emergency" does not undo step "freeze"'))).toBe(true);
  });
});

describe('validate.queries names its baseline step', () => {
  it('refuses a baseline that does not exist, is no baseline.queries step, or comes after it', () => {
    expect(problems(load((d) => (d.phases[0].steps[2].params.baseline_step = 'nope')))).toEqual(['phases[0].steps[2].params.baseline_step: step "nope" does not exist in this runbook (expected the id of a baseline.queries step)']);
    expect(problems(load((d) => (d.phases[0].steps[2].params.baseline_step = 'freeze')))).toEqual(['phases[0].steps[2].params.baseline_step: step "freeze" runs freeze.source, expected a baseline.queries step']);
    expect(problems(load((d) => d.phases[0].steps.reverse()))).toEqual(['phases[0].steps[0].params.baseline_step: step "baseline" must come before "queries" in the phases']);
  });

  it('refuses two critical queries with one name and a malformed tolerance', () => {
    const r = problems(load((d) => {
      d.phases[0].steps[0].params.queries.push({ ...d.phases[0].steps[0].params.queries[0] });
      d.phases[0].steps[2].params.tolerance = 'ten';
    }));
    expect(r).toEqual(['phases[0].steps[0].params.queries[1].name: query name "waiting-list" is used twice', 'phases[0].steps[2].params.tolerance: expected a percentage like "10%"']);
  });
});

describe('rollback.verify_source names the export whose replay it checks', () => {
  const exportStep = { id: 'rb3-export', title: 'Export', approve: 'dba', action: 'rollback.export_since_golive', params: { target: 'target', snapshot: '/s', dir: '/d', target_schema: 'public', tables: [{ table: 'public.a', changed_column: 'c' }] } };
  const verify = { id: 'rb3-verify', title: 'Verify', approve: 'dba', action: 'rollback.verify_source', params: { source: 'source', export_step: 'rb3-export' } };

  it('accepts an export earlier in the same scenario, and refuses one after it or in another scenario', () => {
    expect(problems(load((d) => d.rollback.emergency.steps.push(exportStep, verify)))).toEqual([]);
    expect(problems(load((d) => d.rollback.emergency.steps.push(verify, exportStep)))).toEqual(['rollback.emergency.steps[1].params.export_step: step "rb3-export" must come before "rb3-verify" in the same rollback scenario']);
    expect(problems(load((d) => {
      d.rollback.emergency.steps.push(exportStep);
      d.rollback['pre-go-live'].steps.push({ ...verify, id: 'rb1-verify' });
    }))).toEqual(['rollback.pre-go-live.steps[1].params.export_step: step "rb3-export" must come before "rb1-verify" in the same rollback scenario']);
  });
});
