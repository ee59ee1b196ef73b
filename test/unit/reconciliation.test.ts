import { describe, expect, it } from 'vitest';
import type { Command } from '../../runbook/decide.js';
import { reconciliationMarkdown, reconciliationSummary } from '../../runbook/reconciliation-markdown.js';
import { reconciliationReport } from '../../runbook/reconciliation.js';
import type { RunState } from '../../runbook/state.js';
import type { ValidationItem, Verdict } from '../../runbook/validation-result.js';
import { actor, at, cmd, planOfSteps, RUN_ID, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

const { dba1, lead } = USERS;

const v = (check: string, verdict: Verdict, items: ValidationItem[], seconds = 3) => ({ validation: { check, verdict, items, at: T0 + 60_000, seconds }, report: 'ignored here' });

const RESULTS: Record<string, Record<string, unknown>> = {
  counts: v('counts', 'red', [
    { subject: 'public.antrag', verdict: 'green', message: 'source 12000 = loaded 11950 + quarantined 50', figures: { source: 12000, loaded: 11950, quarantined: 50 } },
    { subject: 'public.person', verdict: 'red', message: 'source 800 ≠ target 799', figures: { source: 800, target: 799 } },
  ]),
  aggregates: v('aggregates', 'green', [{ subject: 'public.antrag', verdict: 'green', message: '14 columns agree', figures: { columns: 14 } }]),
  checksums: v('checksums', 'red', [{ subject: 'public.person', verdict: 'red', message: '1 differing row', figures: { differing_keys: ['4711'], buckets: 64 } }]),
  totals: v('totals', 'green', [
    { subject: 'inventory', verdict: 'green', message: '150 = 150', figures: { source: 150, target: 150 } },
    { subject: 'on_hand_quantity', verdict: 'green', message: '1234.50 = 1234.50', figures: { source_value: '1234.50', target_value: '1234.50', match: true } },
  ]),
  rules: v('rules', 'amber', [{ subject: 'email-format', verdict: 'amber', message: '3 rows (0.3 %), WARNING under 5 %', figures: { violations: 3, examples: ['a@'] } }]),
  integrity: v('integrity', 'green', [{ subject: 'fk_antrag_person', verdict: 'green', message: 'no orphans' }]),
};
const CHECKS = Object.keys(RESULTS);

/** Six validate.* steps with known results, then a gated go-live overridden by the lead. */
function validatedRun(dryRun = false): RunState {
  const plan = planOfSteps(
    [...CHECKS.map((c) => ({ id: c, title: `Validate ${c}`, action: `validate.${c}` })), { id: 'golive', title: 'Go live', action: 'sql', approve: 'owner', gate: 'validation' as const }],
    { permissions: { rollback: ['lead'] } },
  );
  const commands: Command[] = [startCommand({ plan, dryRun })];
  CHECKS.forEach((c, i) => {
    commands.push(cmd.approve(c, dba1, { at: at(i * 3 + 1) }), cmd.started(c, { at: at(i * 3 + 2) }), cmd.succeeded(c, { at: at(i * 3 + 3), details: RESULTS[c] }));
  });
  commands.push({ type: 'gate.override', at: at(30), actor: actor(lead), stepId: 'golive', reason: 'person 4711 is a known test record' });
  return stateAfter(commands);
}

describe('reconciliation report', () => {
  it('builds seed 002\'s key_totals and every check of the run into one exact JSON document', () => {
    const report = reconciliationReport(validatedRun(), at(31));
    expect(JSON.parse(JSON.stringify(report))).toEqual({
      run: RUN_ID,
      runbook: 'demo',
      title: 'Demo cutover',
      dry_run: false,
      generated_at: '2024-03-09T22:31:00.000Z',
      verdict: 'red',
      failing: ['counts: public.person source 800 ≠ target 799', 'checksums: public.person 1 differing row', 'rules: email-format 3 rows (0.3 %), WARNING under 5 %'],
      key_totals: {
        inventory: { source_count: 150, target_count: 150, match: true },
        on_hand_quantity: { source_count: '1234.50', target_count: '1234.50', match: true },
      },
      tables: {
        'public.antrag': {
          verdict: 'green',
          counts: { verdict: 'green', message: 'source 12000 = loaded 11950 + quarantined 50', figures: { source: 12000, loaded: 11950, quarantined: 50 } },
          aggregates: { verdict: 'green', message: '14 columns agree', figures: { columns: 14 } },
        },
        'public.person': {
          verdict: 'red',
          counts: { verdict: 'red', message: 'source 800 ≠ target 799', figures: { source: 800, target: 799 } },
          checksums: { verdict: 'red', message: '1 differing row' },
        },
      },
      rules: [{ subject: 'email-format', verdict: 'amber', message: '3 rows (0.3 %), WARNING under 5 %', figures: { violations: 3, examples: ['a@'] } }],
      checksums: [{ subject: 'public.person', verdict: 'red', message: '1 differing row', figures: { differing_keys: ['4711'], buckets: 64 } }],
      integrity: [{ subject: 'fk_antrag_person', verdict: 'green', message: 'no orphans' }],
      queries: [],
      validations: CHECKS.map((c) => ({
        step: c,
        title: `Validate ${c}`,
        action: `validate.${c}`,
        attempt: 1,
        status: 'succeeded',
        check: c,
        verdict: (RESULTS[c]?.['validation'] as { verdict: string }).verdict,
        at: '2024-03-09T22:01:00.000Z',
        seconds: 3,
      })),
      gate_overrides: [{ step: 'golive', by: lead, at: '2024-03-09T22:30:00.000Z', reason: 'person 4711 is a known test record', verdict: 'red' }],
    });
  });

  it('renders the same content as Markdown tables', () => {
    const md = reconciliationMarkdown(reconciliationReport(validatedRun(), at(31)));
    expect(md.startsWith('# Reconciliation report — Demo cutover\n')).toBe(true);
    expect(md).toContain('**Verdict: 🔴 red**');
    expect(md).toContain('| Total | Source | Target | Match |\n|---|---|---|---|\n| inventory | 150 | 150 | ✅ yes |\n| on_hand_quantity | 1234.50 | 1234.50 | ✅ yes |');
    expect(md).toContain('| public.person | 🔴 source 800 ≠ target 799 | — | 🔴 1 differing row | 🔴 red |');
    expect(md).toContain('| public.antrag | 🟢 source 12000 = loaded 11950 + quarantined 50 | 🟢 14 columns agree | — | 🟢 green |');
    expect(md).toContain('| public.person | 🔴 red | 1 differing row | 4711 |');
    expect(md).toContain('| email-format | 🟠 amber | 3 rows (0.3 %), WARNING under 5 % |');
    expect(md).toContain('| golive | @ULEAD | 2024-03-09 22:30:00 UTC | 🔴 red | person 4711 is a known test record |');
    expect(md).not.toContain('dry run');
  });

  it('says "dry run" in the title of a dry run\'s report and in its summary', () => {
    const report = reconciliationReport(validatedRun(true), at(31));
    expect(report.dry_run).toBe(true);
    expect(reconciliationMarkdown(report).split('\n')[0]).toBe('# Reconciliation report (dry run) — Demo cutover');
    expect(reconciliationSummary(report).startsWith('*Reconciliation (dry run):* 🔴 red · 2 tables (1 🟢 0 🟠 1 🔴) · key totals 2/2 match · gate overridden: golive by <@ULEAD>')).toBe(true);
  });

  it('is red with "no validation has run" for a run without validations, and ignores malformed details', () => {
    const plan = planOfSteps([{ id: 'bad', action: 'validate.counts' }, { id: 'next', action: 'sql' }]);
    const state = stateAfter([startCommand({ plan }), cmd.approve('bad', dba1), cmd.started('bad'), cmd.succeeded('bad', { details: { validation: { check: 'counts', verdict: 'purple' } } })]);
    const report = reconciliationReport(state, at(9));
    expect(report.verdict).toBe('red');
    expect(report.failing).toEqual(['no validation has run', '"Step bad" left no validation verdict']);
    expect(report.validations).toEqual([expect.objectContaining({ step: 'bad', check: null, verdict: 'red' })]);
    expect(report.tables).toEqual({});
    expect(reconciliationReport(stateAfter([startCommand({ plan })]), at(1)).failing).toEqual(['no validation has run']);
  });
});
