import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { stepRecordsOf } from '../../engine/step-runner.js';
import { loadRunbook } from '../../runbook/load.js';
import { cmd, startCommand, stateAfter } from '../support/runbook-factory.js';

/** What an unfreeze or a query validation sees of an earlier step through ActionContext.stepRecord. */
const loaded = loadRunbook({
  name: 'f',
  file: 'f.yaml',
  env: {},
  text: stringify({
    title: 'Freeze',
    connections: { source: { kind: 'mssql', url: 'mssql://m@sql/kgv' } },
    roles: { lead: { title: 'Lead', members: ['ULEAD', 'ULEAD2'] }, dba: { title: 'DBA', members: ['UDBA1', 'UDBA2'] } },
    phases: [{ id: 'p', title: 'P', steps: [{ id: 'freeze', title: 'Freeze', approve: 'dba', action: 'freeze.source', params: { connection: 'source', set_read_only: true } }] }],
    rollback: { 'pre-go-live': { title: 'Pre', approve: 'lead', steps: [{ id: 'rb-unfreeze', title: 'Unfreeze', approve: 'dba', action: 'unfreeze.source', params: { freeze_step: 'freeze' } }] } },
  }),
});
if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
const runbook = loaded.runbook;
const started = [startCommand({ plan: runbook.plan }), cmd.approve('freeze', 'UDBA1'), cmd.started('freeze')];

describe('stepRecordsOf: another step of the run, for actions that build on it', () => {
  it('gives the step\'s action, parsed params, status and its result details (or its error\'s)', () => {
    const ok = stepRecordsOf(runbook, stateAfter([...started, cmd.succeeded('freeze', { details: { database: 'KGV' } })]))('freeze');
    expect(ok).toMatchObject({ id: 'freeze', action: 'freeze.source', status: 'succeeded', attempt: 1, details: { database: 'KGV' }, skipped: null });
    expect(ok?.params).toMatchObject({ connection: 'source', set_read_only: true, app_roles: [], expect_no_sessions: false });
    expect(typeof ok?.startedAt).toBe('number');
    const failed = stepRecordsOf(runbook, stateAfter([...started, cmd.failed('freeze', { code: 'freeze.not_proven', details: { database: 'KGV' } })]))('freeze');
    expect(failed).toMatchObject({ status: 'failed', details: { database: 'KGV' } });
  });

  it('shows a retried freeze as attempt 2 not yet started, so its undo still knows an earlier attempt ran', () => {
    const retried = stateAfter([...started, cmd.failed('freeze', { code: 'freeze.not_proven' }), cmd.retry('freeze', 'UDBA2')]);
    expect(stepRecordsOf(runbook, retried)('freeze')).toMatchObject({ attempt: 2, startedAt: null });
  });

  it('knows rollback steps too, and nothing of ids the runbook lacks', () => {
    const state = stateAfter([startCommand({ plan: runbook.plan })]);
    expect(stepRecordsOf(runbook, state)('rb-unfreeze')).toMatchObject({ action: 'unfreeze.source', status: 'pending', params: { freeze_step: 'freeze' } });
    expect(stepRecordsOf(runbook, state)('nope')).toBeNull();
  });
});
