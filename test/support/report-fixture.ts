import type { RunEvent } from '../../runbook/events.js';
import type { Plan } from '../../runbook/plan.js';
import { fold, type RunState } from '../../runbook/state.js';
import { at, makePlan, makeStep, RUN_ID, T0, USERS } from './runbook-factory.js';

/**
 * A finished night with known figures, minute by minute (planned → actual):
 *   prep  (10m): ready 5m → 3m (all waiting: manual) · backup 5m → 9m (2m wait, 7m run)
 *   load  (30m): copy 20m → 33m (8m wait incl. a hold, 25m run, 12 000 rows) · validate 10m → 7m (1m wait, 6m run)
 * Run: 0 → 52m (planned 40m). Window 22:00–23:30 UTC, rollbacks planned 15m and 45m.
 */
export function reportPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    ...makePlan({
      title: 'KGV cutover rehearsal',
      phases: [
        {
          id: 'prep',
          title: '1. Preparation',
          plannedSeconds: 600,
          steps: [
            makeStep({ id: 'ready', title: 'Team ready', phaseId: 'prep', action: 'manual', plannedSeconds: 300 }),
            makeStep({ id: 'backup', title: 'Back up the source', phaseId: 'prep', action: 'shell', plannedSeconds: 300 }),
          ],
        },
        {
          id: 'load',
          title: '2. Data loading',
          plannedSeconds: 1800,
          steps: [
            makeStep({ id: 'copy', title: 'Copy Antrag', phaseId: 'load', action: 'etl.copy', plannedSeconds: 1200 }),
            makeStep({ id: 'validate', title: 'Validate counts', phaseId: 'load', action: 'sql', plannedSeconds: 600 }),
          ],
        },
      ],
      rollbackScenarios: [
        { id: 'pre-go-live', title: 'Pre-go-live', approve: 'lead', plannedSeconds: 900 },
        { id: 'post-go-live', title: 'Post-go-live', approve: 'lead', plannedSeconds: 2700 },
      ],
    }),
    window: { start: T0, end: at(90) },
    ...overrides,
  };
}

/** The events of the night above; `copyMinutes` changes how long the copy ran (for comparisons). */
export function reportEvents(opts: { plan?: Plan; copyMinutes?: number; runId?: string; rows?: number } = {}): RunEvent[] {
  const plan = opts.plan ?? reportPlan();
  const copyEnd = 20 + (opts.copyMinutes ?? 25);
  const shift = copyEnd - 45;
  const runId = opts.runId ?? RUN_ID;
  return [
    { type: 'run.started', at: at(0), runId, by: USERS.lead, channel: 'C0CUTOVER', dryRun: false, plan, runbookFile: 'config/runbooks/demo.yaml', runbookText: 'title: x' },
    { type: 'step.approval_requested', at: at(0), stepId: 'ready', attempt: 1 },
    { type: 'step.approved', at: at(3), stepId: 'ready', attempt: 1, by: USERS.dba1 },
    { type: 'step.succeeded', at: at(3), stepId: 'ready', attempt: 1, summary: 'Checklist item confirmed' },
    { type: 'step.approval_requested', at: at(3), stepId: 'backup', attempt: 1 },
    { type: 'step.approved', at: at(5), stepId: 'backup', attempt: 1, by: USERS.dba2 },
    { type: 'step.queued', at: at(5), stepId: 'backup', attempt: 1, jobId: 'j1' },
    { type: 'step.started', at: at(5), stepId: 'backup', attempt: 1, resumed: false },
    { type: 'step.succeeded', at: at(12), stepId: 'backup', attempt: 1, summary: 'backup written' },
    { type: 'step.approval_requested', at: at(12), stepId: 'copy', attempt: 1 },
    { type: 'step.held', at: at(13), stepId: 'copy', by: USERS.owner, reason: 'users still logged in' },
    { type: 'escalation.sent', at: at(14), stepId: 'copy', attempt: 1, level: 'reminder', reason: 'waiting 2m for approval', to: [USERS.dba1, USERS.dba2] },
    { type: 'step.released', at: at(15), stepId: 'copy', by: USERS.owner },
    { type: 'step.approved', at: at(20), stepId: 'copy', attempt: 1, by: USERS.dba1 },
    { type: 'step.queued', at: at(20), stepId: 'copy', attempt: 1, jobId: 'j2' },
    { type: 'step.started', at: at(20), stepId: 'copy', attempt: 1, resumed: false },
    {
      type: 'step.succeeded', at: at(copyEnd), stepId: 'copy', attempt: 1, summary: 'Antrag loaded',
      details: { rowsLoaded: opts.rows ?? 12000, quarantined: 50, tables: [{ table: 'Antrag', rows: opts.rows ?? 12000, seconds: (opts.copyMinutes ?? 25) * 60 }] },
    },
    { type: 'step.approval_requested', at: at(45 + shift), stepId: 'validate', attempt: 1 },
    { type: 'step.approved', at: at(46 + shift), stepId: 'validate', attempt: 1, by: USERS.dba2 },
    { type: 'step.queued', at: at(46 + shift), stepId: 'validate', attempt: 1, jobId: 'j3' },
    { type: 'step.started', at: at(46 + shift), stepId: 'validate', attempt: 1, resumed: false },
    { type: 'step.succeeded', at: at(52 + shift), stepId: 'validate', attempt: 1, summary: 'counts match', details: { verdict: 'matched' } },
    { type: 'run.completed', at: at(52 + shift) },
  ];
}

export function reportState(events: RunEvent[] = reportEvents()): RunState {
  const state = fold(events);
  if (!state) throw new Error('fixture events fold to nothing');
  return state;
}
