import { describe, expect, it } from 'vitest';
import { decide, type Command, type Decision } from '../../runbook/decide.js';
import type { Contact, EscalationPolicy } from '../../runbook/escalation.js';
import { dueFollowUps, followUpAnchor, followUpViews, hasOpenFollowUps, type DueFollowUp } from '../../runbook/follow-ups.js';
import { loadRunbook } from '../../runbook/load.js';
import { evolve, type RunState } from '../../runbook/state.js';
import { actor, at, cmd, deepFreeze, makeFollowUp, planOfSteps, startCommand, stateAfter, T0, USERS } from '../support/runbook-factory.js';

const { lead, lead2, dba1, dba2, outsider } = USERS;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const POLICY: EscalationPolicy = {
  remindAfterSeconds: 600,
  escalateAfterSeconds: 1200,
  nextTier: ['lead'],
  runningFactor: 1.5,
  incidentChannel: 'C0INCIDENT',
  sweepSeconds: 30,
  goNoGoRole: 'lead',
  // Said once: these tests are about first sends; repeats and tiers are tested in alert-rounds.test.ts.
  repeatEverySeconds: 0,
  tiers: [],
  approvalTimeoutSeconds: null,
  onTimeout: 'escalate',
  page: [],
};
const CONTACTS: Contact[] = [
  { role: 'dba', name: 'On-call DBA', slack: 'UDBAONCALL', phone: '+49 1', email: null },
  { role: 'lead', name: 'Migration lead', slack: lead, phone: null, email: null },
];

/** Backup: due 1 day after, dba, daily reminders, escalation after 2 days. Archive: due after 30 days, lead. */
const FOLLOW_UPS = [makeFollowUp({ id: 'backup', title: 'Backup PostgreSQL' }), makeFollowUp({ id: 'archive', title: 'Archive SQL Server', afterSeconds: 30 * 86_400, role: 'lead' })];
const plan = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], { followUps: FOLLOW_UPS });

/** Started by lead at T0, signed off by lead2 at at(1): completed, no switch, so follow-ups count from at(1). */
const completed = (overrides: Partial<ReturnType<typeof startCommand>> = {}): RunState =>
  deepFreeze(stateAfter([startCommand({ plan, ...overrides }), cmd.approve('signoff', lead2)]));
const DONE_AT = at(1);
const BACKUP_DUE = DONE_AT + DAY;

function apply(state: RunState, command: Command): RunState {
  const d = decide(state, command);
  if (!d.ok) throw new Error(`${d.code}: ${d.message}`);
  return d.events.reduce<RunState>((s, e) => evolve(s, e) as RunState, state);
}

/** Records every due message as the sweep would. */
function sweep(state: RunState, now: number): { state: RunState; due: DueFollowUp[] } {
  const due = dueFollowUps(state, POLICY, CONTACTS, now);
  const next = due.reduce((s, d) => apply(s, { type: 'follow_up.remind', at: now, followUpId: d.followUpId, level: d.level, reason: d.reason, to: [...d.mention, ...d.dm] }), state);
  return { state: next, due };
}

const levels = (due: DueFollowUp[]): string[] => due.map((d) => `${d.followUpId}:${d.level}`);
const code = (d: Decision): string => (d.ok ? 'accepted' : d.code);
const done = (by: string, when: number, id = 'backup'): Command => ({ type: 'follow_up.done', at: when, actor: actor(by), followUpId: id });
const snooze = (by: string, when: number, seconds: number, reminder?: number, id = 'backup'): Command => ({
  type: 'follow_up.snooze', at: when, actor: actor(by), followUpId: id, seconds, ...(reminder !== undefined ? { reminder } : {}),
});

describe('follow_ups in the runbook file', () => {
  const runbook = (followUps: string): ReturnType<typeof loadRunbook> =>
    loadRunbook({
      name: 'fu',
      file: 'fu.yaml',
      env: {},
      text: `title: F\nroles:\n  dba: { title: DBA, members: [U0DBA] }\nphases:\n  - { id: p, title: P, steps: [{ id: s, title: S, approve: dba, action: manual }] }\nfollow_ups:\n${followUps}`,
    });

  it('reads durations (weeks too) and fills the defaults: daily reminders, escalation after 2 days, a 1-day snooze', () => {
    const result = runbook('  - { id: review, title: Week 1 review, after: 1w, role: dba, checklist: [Tune queries] }\n');
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.runbook.plan.followUps).toEqual([
      { id: 'review', title: 'Week 1 review', description: null, afterSeconds: 7 * 86_400, role: 'dba', checklist: ['Tune queries'], remindEverySeconds: 86_400, escalateAfterSeconds: 2 * 86_400, snoozeSeconds: 86_400 },
    ]);
  });

  it('names an unknown role, a duplicate id and a zero interval at their paths', () => {
    const result = runbook(
      '  - { id: a, title: A, after: 1d, role: dbx }\n  - { id: a, title: B, after: 1d, role: dba }\n  - { id: c, title: C, after: 1d, role: dba, remind_every: 0s }\n',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'follow_ups[2].remind_every: expected a reminder interval longer than 0s',
    ]);
    const refs = runbook('  - { id: a, title: A, after: 1d, role: dbx }\n  - { id: a, title: B, after: 1d, role: dba }\n');
    expect(refs.ok ? [] : refs.problems.map((p) => p.path)).toEqual(['follow_ups[0].role', 'follow_ups[1].id']);
  });

  it('refuses a follow-up without `after`', () => {
    const result = runbook('  - { id: a, title: A, role: dba }\n');
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['follow_ups[0].after']);
  });
});

describe('when follow-ups count from', () => {
  it('from the completion when no switch went live', () => {
    expect(followUpAnchor(completed())).toEqual({ at: DONE_AT, from: 'completion' });
  });

  it('from the go-live time the switch step recorded, not the later completion', () => {
    const withSwitch = planOfSteps([{ id: 'flip', approve: 'owner', action: 'switch' }, { id: 'signoff', approve: 'lead', action: 'manual' }], { followUps: FOLLOW_UPS });
    const state = stateAfter([
      startCommand({ plan: withSwitch }),
      cmd.approve('flip', USERS.owner),
      cmd.started('flip'),
      cmd.succeeded('flip', { details: { goLiveAt: new Date(at(3)).toISOString() } }),
      cmd.approve('signoff', lead2, { at: at(50) }),
    ]);
    expect(state.status).toBe('completed');
    expect(followUpAnchor(state)).toEqual({ at: at(3), from: 'go-live' });
    expect(followUpViews(state, at(60))[0]?.dueAt).toBe(at(3) + DAY);
  });

  it('schedules nothing for a dry run, an aborted or an active run', () => {
    expect(followUpAnchor(completed({ dryRun: true }))).toBeNull();
    expect(followUpAnchor(stateAfter([startCommand({ plan }), cmd.abort(lead)]))).toBeNull();
    const active = stateAfter([startCommand({ plan })]);
    expect(followUpAnchor(active)).toBeNull();
    expect(code(decide(active, done(dba1, at(2))))).toBe('follow_up.not_scheduled');
    expect(code(decide(completed({ dryRun: true }), done(dba1, at(2))))).toBe('follow_up.not_scheduled');
  });
});

describe('which follow-up messages are due', () => {
  it('nothing before its time; a reminder to the role when due; the next one a day later, not before', () => {
    const state = completed();
    expect(dueFollowUps(state, POLICY, CONTACTS, BACKUP_DUE - 1)).toEqual([]);
    const first = sweep(state, BACKUP_DUE);
    expect(first.due).toEqual([
      expect.objectContaining({ followUpId: 'backup', level: 'reminder', seq: 1, mention: [dba1, dba2], dm: [], incidentChannel: null }),
    ]);
    expect(first.due[0]?.reason).toContain('"Backup PostgreSQL" for Database administrator is due');
    expect(levels(sweep(first.state, BACKUP_DUE + DAY - 1).due)).toEqual([]);
    const second = sweep(first.state, BACKUP_DUE + DAY);
    expect(second.due.map((d) => [d.level, d.seq])).toEqual([['reminder', 2]]);
    expect(followUpViews(second.state, BACKUP_DUE + DAY)[0]).toMatchObject({ phase: 'due', reminders: 2, escalated: false });
  });

  it('escalates once, to the role’s contacts and the next tier, after escalate_after unanswered', () => {
    let state = sweep(completed(), BACKUP_DUE).state;
    state = sweep(state, BACKUP_DUE + DAY).state;
    const escalated = sweep(state, BACKUP_DUE + 2 * DAY);
    expect(escalated.due).toEqual([
      expect.objectContaining({ level: 'escalation', seq: 3, dm: ['UDBAONCALL', lead, lead2], mention: [dba1, dba2, 'UDBAONCALL', lead, lead2], incidentChannel: 'C0INCIDENT' }),
    ]);
    expect(escalated.due[0]?.reason).toContain('Nobody has answered for 2d');
    // Afterwards it goes back to daily reminders; the escalation is not repeated.
    expect(levels(sweep(escalated.state, BACKUP_DUE + 3 * DAY).due)).toEqual(['backup:reminder']);
  });

  it('after downtime sends one message, not every one missed', () => {
    const late = sweep(completed(), BACKUP_DUE + 5 * DAY);
    expect(levels(late.due)).toEqual(['backup:escalation']);
    expect(levels(sweep(late.state, BACKUP_DUE + 5 * DAY + 1000).due)).toEqual([]);
  });

  it('a snooze postpones: nothing until it ends, then a reminder, and the escalation clock starts again', () => {
    const reminded = sweep(completed(), BACKUP_DUE).state;
    const snoozed = apply(reminded, snooze(dba2, BACKUP_DUE + HOUR, 4 * 3600, 1));
    const until = BACKUP_DUE + 5 * HOUR;
    expect(followUpViews(snoozed, BACKUP_DUE + 2 * HOUR)[0]).toMatchObject({ phase: 'snoozed', snoozed: { by: dba2, until } });
    expect(levels(sweep(snoozed, until - 1).due)).toEqual([]);
    const after = sweep(snoozed, until);
    expect(after.due.map((d) => [d.level, d.seq])).toEqual([['reminder', 2]]);
    // Escalation: two days after the snooze ended, not two days after it first fell due (a daily reminder then).
    const day2 = sweep(after.state, BACKUP_DUE + 2 * DAY);
    expect(levels(day2.due)).toEqual(['backup:reminder']);
    expect(levels(sweep(day2.state, until + 2 * DAY).due)).toEqual(['backup:escalation']);
  });

  it('stops once done, and the run has no open follow-up when all are done', () => {
    let state = sweep(completed(), BACKUP_DUE).state;
    state = apply(state, done(dba1, BACKUP_DUE + HOUR));
    expect(levels(sweep(state, BACKUP_DUE + 10 * DAY).due)).toEqual([]);
    expect(hasOpenFollowUps(state)).toBe(true);
    state = apply(state, done(lead, BACKUP_DUE + HOUR, 'archive'));
    expect(hasOpenFollowUps(state)).toBe(false);
    expect(followUpViews(state, BACKUP_DUE).map((v) => v.phase)).toEqual(['done', 'done']);
  });
});

describe('Done and Snooze: who, when, and only once', () => {
  const due = (): RunState => sweep(completed(), BACKUP_DUE).state;

  it('refuses a non-member, naming the role, and records nothing', () => {
    const d = decide(due(), done(lead2, BACKUP_DUE + HOUR));
    expect(d).toEqual({ ok: false, code: 'role.not_member', message: expect.stringContaining('"Backup PostgreSQL" is for Database administrator (<@UDBA1>, <@UDBA2>)') });
    expect(code(decide(due(), snooze(outsider, BACKUP_DUE + HOUR, 3600, 1)))).toBe('role.not_member');
  });

  it('lets a member of a role’s user-group press Done', () => {
    const withGroup = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], { followUps: FOLLOW_UPS, roles: { dba: { members: [], usergroups: ['S0DBA'] } } });
    const state = stateAfter([startCommand({ plan: withGroup }), cmd.approve('signoff', lead2)]);
    expect(code(decide(state, { type: 'follow_up.done', at: BACKUP_DUE, actor: actor(outsider, ['S0DBA']), followUpId: 'backup' }))).toBe('accepted');
  });

  it('answers a second Done with who already did it, and records it once', () => {
    const state = apply(due(), done(dba1, BACKUP_DUE + HOUR));
    expect(decide(state, done(dba2, BACKUP_DUE + 2 * HOUR))).toEqual({ ok: false, code: 'follow_up.already_done', message: '<@UDBA1> already marked "Backup PostgreSQL" done at 2024-03-10 23:01 UTC.' });
    expect(code(decide(state, snooze(dba2, BACKUP_DUE + 2 * HOUR, 3600, 1)))).toBe('follow_up.already_done');
  });

  it('accepts Done before the duty is due (it was done early), but no snooze then', () => {
    expect(code(decide(completed(), done(dba1, DONE_AT + HOUR)))).toBe('accepted');
    expect(decide(completed(), snooze(dba1, DONE_AT + HOUR, 3600))).toMatchObject({ ok: false, code: 'follow_up.not_due' });
  });

  it('answers a second Snooze from the same reminder; a later reminder may be snoozed again', () => {
    const snoozed = apply(due(), snooze(dba1, BACKUP_DUE + HOUR, 3600, 1));
    expect(decide(snoozed, snooze(dba2, BACKUP_DUE + HOUR + 5000, 86_400, 1))).toMatchObject({ ok: false, code: 'follow_up.already_snoozed', message: expect.stringContaining('<@UDBA1> already snoozed') });
    const reminded = sweep(snoozed, BACKUP_DUE + 2 * HOUR).state;
    expect(code(decide(reminded, snooze(dba2, BACKUP_DUE + 3 * HOUR, 3600, 2)))).toBe('accepted');
  });

  it('refuses a snooze of nothing or of more than 90 days', () => {
    expect(code(decide(due(), snooze(dba1, BACKUP_DUE, 0, 1)))).toBe('follow_up.bad_snooze');
    expect(code(decide(due(), snooze(dba1, BACKUP_DUE, 91 * 86_400, 1)))).toBe('follow_up.bad_snooze');
  });

  it('refuses a reminder no longer owed: a second sweep at the same moment records nothing', () => {
    const state = due();
    expect(code(decide(state, { type: 'follow_up.remind', at: BACKUP_DUE, followUpId: 'backup', level: 'reminder', reason: 'r', to: [] }))).toBe('follow_up.not_owed');
    expect(code(decide(state, { type: 'follow_up.remind', at: BACKUP_DUE, followUpId: 'nope', level: 'reminder', reason: 'r', to: [] }))).toBe('follow_up.unknown');
  });

  it('never reopens the run: it stays completed at its finish time, and run commands are still refused', () => {
    let state = apply(due(), snooze(dba1, BACKUP_DUE + HOUR, 3600, 1));
    state = apply(state, done(dba1, BACKUP_DUE + 2 * HOUR));
    expect(state).toMatchObject({ status: 'completed', finishedAt: DONE_AT });
    expect(state.steps['signoff']?.status).toBe('succeeded');
    expect(code(decide(state, cmd.pause(lead)))).toBe('run.finished');
    expect(code(decide(state, cmd.approve('signoff', lead2, { at: BACKUP_DUE })))).toBe('run.finished');
  });

  it('ignores an event for a follow-up the plan does not have', () => {
    const state = evolve(completed(), { type: 'follow_up.done', at: T0, followUpId: 'ghost', by: dba1 }) as RunState;
    expect(state.followUps?.['ghost']).toBeUndefined();
  });
});
