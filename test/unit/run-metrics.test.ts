import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registry, setActiveRunsSource } from '../../config/metrics.js';
import { recordRunEvents, runGaugeSamples } from '../../config/run-metrics.js';
import { decide, type Command } from '../../runbook/decide.js';
import { evolve, type RunState } from '../../runbook/state.js';
import type { ValidationResult } from '../../runbook/validation-result.js';
import { parseExposition, type Exposition } from '../support/prometheus.js';
import { at, cmd, planOfSteps, startCommand, T0, USERS } from '../support/runbook-factory.js';

const { dba1, dba2, lead2 } = USERS;

/** ready (manual) → copy (etl.copy) → counts (validate.counts) → signoff (manual, lead). */
const plan = planOfSteps(
  [
    { id: 'ready', action: 'manual', manual: true },
    { id: 'copy', action: 'etl.copy' },
    { id: 'counts', action: 'validate.counts' },
    { id: 'signoff', action: 'manual', manual: true, approve: 'lead' },
  ],
  { runbook: 'kgv' },
);

/** What RunService does after an append: decide, fold, tell the metrics. */
function apply(state: RunState | null, command: Command): RunState {
  const decision = decide(state, command);
  if (!decision.ok) throw new Error(`fixture command ${command.type} refused: ${decision.code} ${decision.message}`);
  const after = decision.events.reduce<RunState | null>((s, e) => evolve(s, e), state);
  if (!after) throw new Error('no run');
  recordRunEvents(after, decision.events);
  return after;
}

const validation = (verdict: ValidationResult['verdict']): { validation: ValidationResult } => ({
  validation: { check: 'counts', verdict, items: [{ subject: 'public.antrag', verdict, message: 'source 3 ≠ target 2' }], at: at(15), seconds: 1 },
});

const read = async (): Promise<Exposition> => parseExposition(await registry.metrics());

beforeEach(() => registry.resetMetrics());

describe('recordRunEvents: counters from the events a process appended', () => {
  it('counts a run, its approval waits, step durations by action and outcome, verdicts, escalations and its end', async () => {
    let s = apply(null, startCommand({ plan }));
    s = apply(s, cmd.approve('ready', dba1, { at: at(1) }));
    s = apply(s, { type: 'escalate', at: at(2), stepId: 'copy', attempt: 1, level: 'reminder', reason: 'waited', to: [dba1, dba2] });
    s = apply(s, cmd.approve('copy', dba2, { at: at(3) }));
    s = apply(s, cmd.started('copy', { at: at(4) }));
    s = apply(s, cmd.progress('copy', 'half', { at: at(9) }));
    s = apply(s, cmd.succeeded('copy', { at: at(14) }));
    s = apply(s, cmd.approve('counts', dba1, { at: at(15) }));
    s = apply(s, cmd.started('counts', { at: at(15) }));
    s = apply(s, cmd.failed('counts', { at: at(16), code: 'validate.counts_red', details: validation('red') }));
    s = apply(s, cmd.retry('counts', dba2, { at: at(17) }));
    s = apply(s, cmd.started('counts', { at: at(17), attempt: 2 }));
    s = apply(s, cmd.succeeded('counts', { at: at(17) + 30_000, attempt: 2, details: validation('green') }));
    s = apply(s, cmd.approve('signoff', lead2, { at: at(20) }));
    expect(s.status).toBe('completed');

    const m = await read();
    expect(m.value('cutover_runs_started_total', { runbook: 'kgv', dry_run: 'false' })).toBe(1);
    expect(m.value('cutover_runs_finished_total', { runbook: 'kgv', status: 'completed' })).toBe(1);
    // ready: 1 min; copy: requested at 1, approved at 3; counts: 1 min, then the retrier's own approval at once;
    // signoff: requested when counts succeeded (17:30), approved at 20.
    expect(m.histogram('cutover_approval_wait_seconds', { runbook: 'kgv', role: 'dba' })).toEqual({ count: 4, sum: 60 + 120 + 60 + 0 });
    expect(m.histogram('cutover_approval_wait_seconds', { role: 'lead' })).toEqual({ count: 1, sum: 150 });
    expect(m.histogram('cutover_step_duration_seconds', { action: 'etl.copy', outcome: 'succeeded' })).toEqual({ count: 1, sum: 600 });
    expect(m.histogram('cutover_step_duration_seconds', { action: 'validate.counts', outcome: 'failed' })).toEqual({ count: 1, sum: 60 });
    expect(m.histogram('cutover_step_duration_seconds', { action: 'validate.counts', outcome: 'succeeded' })).toEqual({ count: 1, sum: 30 });
    // Manual steps never ran on the worker: their time is approval wait, not a step duration.
    expect(m.histogram('cutover_step_duration_seconds', { action: 'manual' }).count).toBe(0);
    expect(m.value('cutover_validation_verdicts_total', { check: 'counts', verdict: 'red' })).toBe(1);
    expect(m.value('cutover_validation_verdicts_total', { check: 'counts', verdict: 'green' })).toBe(1);
    expect(m.value('cutover_escalations_sent_total', { runbook: 'kgv', level: 'reminder' })).toBe(1);
  });

  it('counts an aborted run once, and a step failed before it started (worker lost) without a duration', async () => {
    let s = apply(null, startCommand({ plan, dryRun: true }));
    s = apply(s, cmd.approve('ready', dba1));
    s = apply(s, cmd.approve('copy', dba2, { at: at(2) }));
    s = apply(s, { type: 'report.failed', at: at(3), stepId: 'copy', attempt: 1, code: 'worker.lost', message: 'its job ended without reporting a result' });
    apply(s, cmd.abort(lead2, 'rehearsal over', { at: at(4) }));

    const m = await read();
    expect(m.value('cutover_runs_started_total', { dry_run: 'true' })).toBe(1);
    expect(m.value('cutover_runs_finished_total', { status: 'aborted', dry_run: 'true' })).toBe(1);
    expect(m.value('cutover_runs_finished_total', { status: 'completed' })).toBeUndefined();
    expect(m.histogram('cutover_step_duration_seconds').count).toBe(0);
  });
});

describe('runGaugeSamples: the run gauges from the active runs at scrape time', () => {
  const started = (): RunState => apply(null, startCommand({ plan }));

  it('shows the active run, its steps by status and who it waits for, with the age of the oldest wait', () => {
    const s = apply(started(), cmd.approve('ready', dba1, { at: at(1) }));
    const g = runGaugeSamples([s], at(11));
    expect(g.runs).toEqual([{ runbook: 'kgv', status: 'active', dryRun: false, count: 1 }]);
    expect(g.steps).toEqual(expect.arrayContaining([
      { runbook: 'kgv', status: 'succeeded', count: 1 },
      { runbook: 'kgv', status: 'awaiting_approval', count: 1 },
      { runbook: 'kgv', status: 'pending', count: 2 },
    ]));
    const dba = g.approvals.find((a) => a.role === 'dba');
    expect(dba).toEqual({ runbook: 'kgv', role: 'dba', waiting: 1, oldestSeconds: 600 });
    // The run's other roles read 0, so a dashboard shows 0 rather than "no data".
    expect(g.approvals.find((a) => a.role === 'lead')).toEqual({ runbook: 'kgv', role: 'lead', waiting: 0, oldestSeconds: null });
  });

  it('a paused run waits for nobody; a requested rollback waits for its authority', () => {
    const withRollback = { ...plan, rollbackScenarios: [{ id: 'pre-go-live', title: 'Truncate', approve: 'lead', steps: [] }] };
    const paused = apply(apply(null, startCommand({ plan: withRollback })), cmd.pause(lead2, 'coffee', { at: at(1) }));
    expect(runGaugeSamples([paused], at(5)).approvals.every((a) => a.waiting === 0)).toBe(true);
    expect(runGaugeSamples([paused], at(5)).runs).toEqual([{ runbook: 'kgv', status: 'paused', dryRun: false, count: 1 }]);

    const rollback = apply(apply(null, startCommand({ plan: withRollback })), {
      type: 'rollback.request', at: at(2), actor: { id: dba1 }, scenario: 'pre-go-live', reason: 'counts are red',
    } as Command);
    expect(rollback.rollback?.status).toBe('requested');
    expect(runGaugeSamples([rollback], at(3)).approvals.find((a) => a.role === 'lead')).toMatchObject({ waiting: 1, oldestSeconds: 60 });
  });

  it('shows the latest verdict of each validation step and leaves finished runs out', () => {
    let s = apply(started(), cmd.approve('ready', dba1));
    s = apply(s, cmd.approve('copy', dba2));
    s = apply(s, cmd.started('copy'));
    s = apply(s, cmd.succeeded('copy'));
    s = apply(s, cmd.approve('counts', dba1, { at: at(5) }));
    s = apply(s, cmd.started('counts', { at: at(5) }));
    s = apply(s, cmd.succeeded('counts', { at: at(6), details: { ...validation('amber'), report: 'amber' } }));
    expect(runGaugeSamples([s], at(7)).verdicts).toEqual([{ runbook: 'kgv', step: 'counts', verdict: 'amber' }]);

    const done = apply(s, cmd.approve('signoff', lead2, { at: at(8) }));
    expect(done.status).toBe('completed');
    expect(runGaugeSamples([done], at(9))).toEqual({ runs: [], steps: [], approvals: [], verdicts: [] });
  });

  it('never labels a series with a run id or a user id', () => {
    const s = apply(started(), cmd.approve('ready', dba1, { at: at(1) }));
    const values = JSON.stringify(runGaugeSamples([s], at(2)));
    expect(values).not.toContain(s.runId);
    for (const user of Object.values(USERS)) expect(values).not.toContain(user);
    expect(T0).toBeLessThan(at(2));
  });
});

describe('the run gauges on /metrics', () => {
  afterEach(() => setActiveRunsSource(null));

  it('read the active runs once per scrape for all five gauges, afresh at the next scrape', async () => {
    let reads = 0;
    const s = apply(apply(null, startCommand({ plan })), cmd.approve('ready', dba1, { at: at(1) }));
    setActiveRunsSource(async () => {
      reads++;
      return runGaugeSamples([s], at(3));
    });
    const m = await read();
    expect(reads).toBe(1);
    expect(m.value('cutover_runs', { runbook: 'kgv', status: 'active' })).toBe(1);
    expect(m.value('cutover_approval_oldest_wait_seconds', { role: 'dba' })).toBe(120);
    await read();
    expect(reads).toBe(2);
  });

  it('a source that fails empties them and counts the failure; the scrape still answers', async () => {
    const s = apply(null, startCommand({ plan }));
    let fail = false;
    setActiveRunsSource(async () => {
      if (fail) throw new Error('Redis is down');
      return runGaugeSamples([s], at(1));
    });
    expect((await read()).value('cutover_runs')).toBe(1);
    fail = true;
    const m = await read();
    expect(m.value('cutover_runs')).toBeUndefined();
    expect(m.value('cutover_steps')).toBeUndefined();
    expect(m.value('cutover_metrics_source_errors_total', { source: 'runs' })).toBe(1);
  });
});
