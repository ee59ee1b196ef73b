import type { RunEvent } from '../../runbook/events.js';

/** The smallest plan a run can have: one sql step a DBA (U1) approves. For store and fold tests that need a run, not a runbook. */
const ONE_STEP_PLAN = {
  runbook: 'rb',
  title: 'RB',
  roles: { dba: { id: 'dba', title: 'DBA', members: ['U1'], usergroups: [], minApprovals: 1, requesterMayApprove: true } },
  phases: [{ id: 'p', title: 'P', plannedSeconds: null, steps: [{ id: 'a', title: 'A', phaseId: 'p', approve: 'dba', action: 'sql', manual: false, plannedSeconds: null, timeoutSeconds: null, confirm: null, skippableBy: [], description: null, gate: null }] }],
  permissions: { start: null, pause: null, resume: null, abort: null, rollback: null },
  rollbackScenarios: [],
};

/** The first event of a one-step run, started by U1 at `at`. */
export const oneStepRunStarted = (runId: string, at = 1): RunEvent => ({ type: 'run.started', at, runId, by: 'U1', channel: 'C', dryRun: false, plan: ONE_STEP_PLAN, runbookFile: 'rb.yaml', runbookText: '' });
