/**
 * Issue 16: each validation's thread message says its verdict in one line —
 * the verdict's emoji, what was compared, the figure that decided it — and
 * the full reconciliation report is posted once, with the gate
 * (runbook/gate-report.ts decides when).
 */
import { describe, expect, it } from 'vitest';
import { renderStep } from '../../bot/render/step-blocks.js';
import { verdictLine } from '../../bot/render/verdict-line.js';
import type { Command } from '../../runbook/decide.js';
import { gateReportDue, reportChanges } from '../../runbook/gate-report.js';
import { allSteps, type PlanStep } from '../../runbook/plan.js';
import type { StepState } from '../../runbook/state.js';
import type { ValidationItem } from '../../runbook/validation-result.js';
import { cmd, makeStep, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

const step = (overrides: Partial<StepState> = {}): StepState => ({
  id: 's', status: 'succeeded', attempt: 1, approvals: [], requestedAt: T0, approvedAt: T0, startedAt: T0, finishedAt: T0, result: null, error: null, ...overrides,
} as StepState);
const details = (check: string, items: ValidationItem[]) => ({ validation: { check, verdict: items.some((i) => i.verdict === 'red') ? 'red' : items.some((i) => i.verdict === 'amber') ? 'amber' : 'green', items, at: T0, seconds: 1 } });
const done = (check: string, items: ValidationItem[]): StepState => step({ result: { summary: 'x', details: details(check, items) } });
const validation = (action: string): PlanStep => makeStep({ id: 's', title: 'Check', action });

describe('a validation\'s one-line verdict', () => {
  it('counts: green, with source = loaded + quarantined summed over the tables', () => {
    const line = verdictLine(validation('validate.counts'), done('counts', [
      { subject: 'a', verdict: 'green', message: 'source 4000 = loaded 3999 + quarantined 1', figures: { source: 4000, target: 3999, loaded: 3999, quarantined: 1 } },
      { subject: 'b', verdict: 'green', message: 'source 12 = loaded 12 + quarantined 0', figures: { source: 12, target: 12, loaded: 12, quarantined: 0 } },
    ]));
    expect(line).toBe('🟢 *green* — Row counts, source vs target: 2/2 tables match · 4,012 source rows = 4,011 loaded + 1 quarantined');
  });

  it('totals: red, naming the total that differs and how many more do', () => {
    const failed = step({
      status: 'failed',
      error: { code: 'validate.totals_red', message: 'totals: 1/3 totals green', details: details('totals', [
        { subject: 'inventory', verdict: 'red', message: 'source 12000 ≠ target 11999' },
        { subject: 'orders', verdict: 'red', message: 'source 5 ≠ target 4' },
        { subject: 'fees', verdict: 'green', message: 'source 1 = target 1' },
      ]) },
    });
    expect(verdictLine(validation('validate.totals'), failed)).toBe('🔴 *red* — Business totals, source vs target: 1/3 totals equal · inventory: source 12000 ≠ target 11999 (and 1 more)');
  });

  it('rules: amber, the warning that decided it; a message that names its subject is not prefixed again', () => {
    const line = verdictLine(validation('validate.rules'), done('rules', [
      { subject: 'phone_format', verdict: 'amber', message: 'phone_format: WARNING: 4 violation(s) (4.00% of 100), limit 5%' },
      { subject: 'dates', verdict: 'green', message: 'ERROR: 0 violation(s)', figures: { violations: 0 } },
    ]), true);
    expect(line).toBe('🟠 *amber* (dry run) — Data-quality rules: 1/2 rules pass · phone_format: WARNING: 4 violation(s) (4.00% of 100), limit 5%');
  });

  it('checksums, aggregates, integrity, queries: the figure each green rests on', () => {
    expect(verdictLine(validation('validate.checksums'), done('checksums', [{ subject: 't', verdict: 'green', message: 'm', figures: { sourceRows: 1500, targetRows: 1500 } }])))
      .toBe('🟢 *green* — Row checksums, source vs target: 1/1 tables match · 1,500 rows hashed on each side, none differ');
    expect(verdictLine(validation('validate.aggregates'), done('aggregates', [{ subject: 't', verdict: 'green', message: 'm', figures: { columns: 7 } }])))
      .toBe('🟢 *green* — Column aggregates (count, min, max, sum), source vs target: 1/1 tables agree · the figures of 7 columns agree');
    expect(verdictLine(validation('validate.integrity'), done('integrity', [{ subject: 'fk', verdict: 'green', message: 'no orphaned row(s)' }])))
      .toBe('🟢 *green* — Integrity in PostgreSQL (foreign keys, keys, NOT NULL, CHECK): 1/1 constraints hold · no violation');
    expect(verdictLine(validation('validate.queries'), done('queries', [
      { subject: 'q1', verdict: 'green', message: 'm', figures: { change: -0.2 } },
      { subject: 'q2', verdict: 'green', message: 'm', figures: { change: 0.04 } },
    ]))).toBe('🟢 *green* — Critical queries on PostgreSQL vs the source baseline: 2/2 queries within tolerance · slowest +4 % against its baseline');
  });

  it('a check that never reached a verdict, one skipped, one still running, and a step that is no validation', () => {
    expect(verdictLine(validation('validate.counts'), step({ status: 'failed', error: { code: 'pg.connection', message: 'refused' } })))
      .toBe('🔴 *red* — Row counts, source vs target: no verdict — the check did not finish (`pg.connection`)');
    expect(verdictLine(validation('validate.counts'), step({ status: 'skipped' }))).toBe('🟠 *amber* — Row counts, source vs target: not checked, the step was skipped');
    expect(verdictLine(validation('validate.counts'), step({ status: 'running' }))).toBeNull();
    expect(verdictLine(makeStep({ id: 's', action: 'sql' }), step())).toBeNull();
  });

  it('stands right under the step\'s title, in place of the result and failure lines', () => {
    const plan = planOfSteps([{ id: 's', title: 'Totals', action: 'validate.totals' }]);
    const state = stateAfter([startCommand({ plan })]);
    const planStep = allSteps(plan)[0] as PlanStep;
    const failed = step({ status: 'failed', error: { code: 'validate.totals_red', message: 'totals: 0/1 totals green', details: details('totals', [{ subject: 'inventory', verdict: 'red', message: 'source 2 ≠ target 1' }]) } });
    const text = (renderStep(state, planStep, failed, T0).blocks[0] as { text: { text: string } }).text.text.split('\n');
    expect(text.slice(0, 2)).toEqual(['❌ *Totals* — failed', '🔴 *red* — Business totals, source vs target: 0/1 totals equal · inventory: source 2 ≠ target 1']);
    expect(text.join('\n')).not.toContain('*Failed:*');
  });
});

describe('when the reconciliation report is posted', () => {
  const plan = planOfSteps([
    { id: 'counts', title: 'Row counts', action: 'validate.counts', approve: 'dba' },
    { id: 'signoff', title: 'Sign-off', action: 'manual', approve: 'lead', gate: 'validation' },
    { id: 'queries', title: 'Critical queries', action: 'validate.queries', approve: 'dba' },
    { id: 'switch', title: 'Switch', action: 'manual', approve: 'owner', gate: 'validation' },
  ]);
  const green = { details: details('counts', [{ subject: 't', verdict: 'green', message: 'source 1 = target 1' }]) };
  const base: Command[] = [startCommand({ plan }), cmd.approve('counts', USERS.dba1), cmd.started('counts'), cmd.succeeded('counts', green)];
  const gateOf = (id: string) => allSteps(plan).find((s) => s.id === id) as PlanStep;

  it('with the gate that asks on finished validations, once per evidence; a decided gate whose message is out gets none', () => {
    const state = stateAfter(base);
    const signoff = state.steps['signoff'] as StepState;
    const due = gateReportDue(state, gateOf('signoff'), signoff, false);
    expect(due?.fingerprint).toBe('counts@1:green');
    expect(gateReportDue(state, gateOf('signoff'), signoff, true)?.fingerprint).toBe('counts@1:green');
    expect(gateReportDue(state, gateOf('signoff'), { ...signoff, status: 'succeeded' }, true)).toBeNull();
    expect(gateReportDue(state, gateOf('counts'), state.steps['counts'] as StepState, false)).toBeNull();
  });

  it('a later gate whose evidence grew gets a new version, saying what was added', () => {
    const state = stateAfter([
      ...base, cmd.approve('signoff', USERS.lead2), cmd.approve('queries', USERS.dba1), cmd.started('queries'),
      cmd.succeeded('queries', { details: details('queries', [{ subject: 'q', verdict: 'amber', message: 'slower' }]) }),
    ]);
    const due = gateReportDue(state, gateOf('switch'), state.steps['switch'] as StepState, false);
    expect(due?.fingerprint).toBe('counts@1:green,queries@1:amber');
    expect(reportChanges(state, [{ stepId: 'counts', attempt: 1, verdict: 'green' }], due?.results ?? [])).toEqual(['"Critical queries" added (🟠 amber)']);
  });

  it('none while a validation re-runs, and none for a runbook without validations', () => {
    const rerun = stateAfter([...base, cmd.retry('counts', USERS.dba1)]);
    expect(gateReportDue(rerun, gateOf('signoff'), rerun.steps['signoff'] as StepState, true)).toBeNull();
    const bare = planOfSteps([{ id: 'golive', title: 'Go live', action: 'manual', approve: 'owner', gate: 'validation' }]);
    const state = stateAfter([startCommand({ plan: bare })]);
    expect(gateReportDue(state, allSteps(bare)[0] as PlanStep, state.steps['golive'] as StepState, false)).toBeNull();
  });
});
