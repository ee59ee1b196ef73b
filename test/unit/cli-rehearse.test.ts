import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { approversOf, rolesAsked, starterOf } from '../../cli/rehearse/approvers.js';
import { nextMove } from '../../cli/rehearse/next-move.js';
import { ProgressView } from '../../cli/rehearse/progress-view.js';
import { Output } from '../../cli/output.js';
import type { RunEvent } from '../../runbook/events.js';
import { loadRunbook } from '../../runbook/load.js';
import type { Plan } from '../../runbook/plan.js';
import { fold, type RunState } from '../../runbook/state.js';
import { cliIo } from '../support/cli-io.js';

const doc = {
  title: 'Headless',
  connections: { target: { kind: 'postgres', url: 'postgres://app@db/app' } },
  roles: {
    lead: { title: 'Lead', members: ['U0LEAD'], requester_may_approve: true },
    dba: { title: 'DBA', members: ['U0LEAD', 'U0DBA'] },
    owner: { title: 'Owners', members: ['U0OWN1', 'U0OWN2', 'U0OWN3'], min_approvals: 2 },
    ops: { title: 'Ops', usergroups: ['S0OPS'] },
  },
  permissions: { start: ['lead'] },
  phases: [
    {
      id: 'p',
      title: 'P',
      steps: [
        { id: 'ready', title: 'Ready', approve: 'lead', action: 'manual' },
        { id: 'load', title: 'Load', approve: 'dba', action: 'sql', params: { connection: 'target', sql: 'SELECT 1' } },
        { id: 'go', title: 'Go', approve: 'owner', action: 'manual' },
        { id: 'watch', title: 'Watch', approve: 'ops', action: 'manual' },
      ],
    },
  ],
};

function planOf(): Plan {
  const loaded = loadRunbook({ name: 'headless', file: 'headless.yaml', text: stringify(doc), env: {} });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.runbook.plan;
}

const plan = planOf();
const T = 1_700_000_000_000;
const started = (...more: RunEvent[]): RunState =>
  fold([{ type: 'run.started', at: T, runId: 'r1', by: 'U0LEAD', channel: 'headless', dryRun: false, plan, runbookFile: 'headless.yaml', runbookText: '' }, ...more]) as RunState;
const asked = (stepId: string, at = T): RunEvent => ({ type: 'step.approval_requested', at, stepId, attempt: 1 });
const done = (stepId: string): RunEvent => ({ type: 'step.succeeded', at: T + 1, stepId, attempt: 1, summary: 'ok' });
const all = new Set(rolesAsked(plan));
const starter = { id: 'U0LEAD', groups: [] };

describe('who acts in a headless rehearsal', () => {
  it('starts as a member of the first role allowed to start', () => {
    expect(starterOf(plan)).toEqual({ id: 'U0LEAD', groups: [] });
  });

  it('leaves the starter out where separation of duties forbids, and takes the quorum of N-of-M', () => {
    expect(approversOf(plan, 'dba', starter)).toEqual({ ok: true, actors: [{ id: 'U0DBA', groups: [] }] });
    expect(approversOf(plan, 'lead', starter)).toEqual({ ok: true, actors: [starter] });
    expect(approversOf(plan, 'owner', starter)).toMatchObject({ ok: true, actors: [{ id: 'U0OWN1' }, { id: 'U0OWN2' }] });
    expect(approversOf(plan, 'owner', starter, ['U0OWN1'])).toMatchObject({ ok: true, actors: [{ id: 'U0OWN2' }] });
  });

  it('gives a role of user-groups stand-ins in those groups', () => {
    expect(approversOf(plan, 'ops', starter)).toEqual({ ok: true, actors: [{ id: 'U0REHEARSEOPS1', groups: ['S0OPS'] }] });
  });

  it('says so when the role cannot reach its quorum without the starter', () => {
    const soloDba = { ...plan, roles: { ...plan.roles, dba: { ...plan.roles.dba!, members: ['U0LEAD'] } } };
    expect(approversOf(soloDba, 'dba', starter)).toEqual({ ok: false, reason: expect.stringContaining('the run\'s starter U0LEAD may not approve for it') });
  });
});

describe('nextMove: what the rehearsal does with the run as it stands', () => {
  const o = { starter, autoApprove: all, until: null };

  it('approves the step waiting for approval as its role', () => {
    expect(nextMove(started(asked('ready')), o)).toEqual({ kind: 'approve', stepId: 'ready', attempt: 1, actors: [starter] });
    expect(nextMove(started(asked('ready'), done('ready'), asked('load')), o)).toMatchObject({ kind: 'approve', stepId: 'load', actors: [{ id: 'U0DBA' }] });
  });

  it('waits while a step is queued or running', () => {
    const queued: RunEvent = { type: 'step.queued', at: T, stepId: 'load', attempt: 1, jobId: 'r1__load__1' };
    expect(nextMove(started(asked('ready'), done('ready'), asked('load'), queued), o)).toEqual({ kind: 'wait' });
  });

  it('stops at a step whose role is not auto-approved, at a failed step, and on a pause', () => {
    expect(nextMove(started(asked('ready')), { ...o, autoApprove: new Set(['dba']) })).toEqual({ kind: 'stop', stepId: 'ready', reason: '"Ready" (ready) waits for Lead (lead), which --auto-approve does not include' });
    const failed: RunEvent = { type: 'step.failed', at: T, stepId: 'ready', attempt: 1, code: 'x', message: 'it broke' };
    expect(nextMove(started(asked('ready'), failed), o)).toEqual({ kind: 'stop', stepId: 'ready', reason: '"Ready" (ready) failed: it broke' });
    expect(nextMove(started(asked('ready'), { type: 'run.paused', at: T, by: 'U0DBA', reason: 'coffee' }), o)).toMatchObject({ kind: 'stop', reason: 'the run was paused by U0DBA: coffee' });
  });

  it('ends green once the --until step is done, and reports a finished run as finished', () => {
    expect(nextMove(started(asked('ready'), done('ready'), asked('load')), { ...o, until: 'ready' })).toEqual({ kind: 'until', stepId: 'ready' });
    expect(nextMove(started(asked('ready'), { type: 'run.aborted', at: T, by: 'U0LEAD', reason: 'x' }), o)).toEqual({ kind: 'finished' });
  });
});

describe('the progress of a long step', () => {
  const progress = (rows: number): RunEvent => ({ type: 'step.progress', at: T, stepId: 'load', attempt: 1, message: 'm', data: { rows, expectedRows: 24_000, rowsPerSecond: 6000, etaSeconds: 2 } });
  const running = (rows: number) =>
    started(asked('ready'), done('ready'), asked('load'), { type: 'step.queued', at: T, stepId: 'load', attempt: 1, jobId: 'j' }, { type: 'step.started', at: T, stepId: 'load', attempt: 1, resumed: false }, progress(rows));

  it('is a bar redrawn in place on a terminal: rows, rows/s, ETA', () => {
    const io = cliIo({}, { tty: true });
    new ProgressView(new Output(io, false), () => T).update(running(12_000));
    expect(io.err()).toContain('\r\u001b[2Kload [############------------] 12,000/24,000 rows · 6,000 rows/s · ETA 2s');
  });

  it('is a plain line now and then elsewhere, and a line per finished step', () => {
    const io = cliIo({}, { tty: false });
    let now = T;
    const view = new ProgressView(new Output(io, false), () => now);
    view.update(running(12_000));
    view.update(running(13_000)); // within 10 s: not repeated
    now += 10_000;
    view.update(running(18_000));
    const lines = io.err().trimEnd().split('\n');
    expect(lines).toEqual([
      '✓ ready ok',
      '… load: Load',
      '  load: 12,000/24,000 rows · 6,000 rows/s · ETA 2s',
      '  load: 18,000/24,000 rows · 6,000 rows/s · ETA 2s',
    ]);
    expect(io.err()).not.toContain('\r');
  });

  it("names people as the runbook's contacts do, not as Slack's <@U…>; someone unknown by id", () => {
    const io = cliIo({}, { tty: false });
    const failed: RunEvent = { type: 'step.failed', at: T, stepId: 'ready', attempt: 1, code: 'run.aborted', message: 'the run was aborted by <@U0LEAD>; <@U0NOBODY> was told' };
    new ProgressView(new Output(io, false), () => T, { U0LEAD: 'Sabine Krüger' }).update(started(asked('ready'), failed));
    expect(io.err()).toBe('✗ ready the run was aborted by Sabine Krüger; @U0NOBODY was told\n');
  });

  it('prints nothing under --quiet, and colours only on a terminal without NO_COLOR', () => {
    const quiet = cliIo({}, { tty: true });
    new ProgressView(new Output(quiet, true), () => T).update(running(12_000));
    expect(quiet.err()).toBe('');
    const noColor = cliIo({ NO_COLOR: '1' }, { tty: true });
    new ProgressView(new Output(noColor, false), () => T).update(started(asked('ready'), done('ready')));
    expect(noColor.err()).toBe('✓ ready ok\n');
    const colour = cliIo({}, { tty: true });
    new ProgressView(new Output(colour, false), () => T).update(started(asked('ready'), done('ready')));
    expect(colour.err()).toContain('\u001b[32m✓\u001b[39m');
  });
});
