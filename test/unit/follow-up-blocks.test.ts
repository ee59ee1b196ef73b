import { describe, expect, it } from 'vitest';
import { decodeFollowUpValue, encodeFollowUpValue } from '../../bot/follow-ups/follow-up-value.js';
import { followUpRootLine, renderFollowUpReminder, renderFollowUpStatus } from '../../bot/render/follow-up-blocks.js';
import { decide, type Command } from '../../runbook/decide.js';
import { buildReport } from '../../runbook/report/index.js';
import { fold, evolve, type RunState } from '../../runbook/state.js';
import type { RunEvent } from '../../runbook/events.js';
import { actor, at, cmd, decideAll, makeFollowUp, planOfSteps, startCommand, USERS } from '../support/runbook-factory.js';
import { buttonsIn } from '../support/fake-slack.js';

const { lead2, dba1, dba2 } = USERS;
const DAY = 86_400_000;
const plan = planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }], {
  followUps: [
    makeFollowUp({ id: 'backup', title: 'Backup PostgreSQL', checklist: ['pg_dump verified'], snoozeSeconds: 4 * 3600 }),
    makeFollowUp({ id: 'archive', title: 'Archive SQL Server', role: 'lead', afterSeconds: 30 * 86_400 }),
  ],
});
const DUE = at(1) + DAY;

/** The run's events after the given follow-up commands (each must be accepted). */
function eventsAfter(commands: Command[]): RunEvent[] {
  const result = decideAll(null, [startCommand({ plan }), cmd.approve('signoff', lead2), ...commands]);
  if (result.refusals.length) throw new Error(JSON.stringify(result.refusals));
  return result.events;
}
const remind = (when: number): Command => ({ type: 'follow_up.remind', at: when, followUpId: 'backup', level: 'reminder', reason: 'due', to: [dba1, dba2] });
const stateOf = (events: RunEvent[]): RunState => fold(events) as RunState;

describe('follow-up reminder messages', () => {
  it('carry the checklist, Done, the runbook’s Snooze and a menu of other periods, for the role', () => {
    const rendered = renderFollowUpReminder(stateOf(eventsAfter([remind(DUE)])), 'backup', 1, DUE);
    expect(rendered?.text).toContain('🔔 Follow-up due: *Backup PostgreSQL* — for Database administrator');
    expect(rendered?.text).toContain('<@UDBA1> <@UDBA2>');
    expect(JSON.stringify(rendered?.blocks)).toContain('☐ pg_dump verified');
    expect(buttonsIn(rendered?.blocks).map((b) => [b.actionId, b.text])).toEqual([['followup.done', 'Done'], ['followup.snooze', 'Snooze 4h']]);
    const select = rendered?.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : [])).find((e) => e.type === 'static_select');
    const options = select?.type === 'static_select' ? (select.options ?? []) : [];
    expect(options.map((o) => o.text.text)).toEqual(['Snooze 1h', 'Snooze 1d', 'Snooze 3d', 'Snooze 7d']);
    expect(decodeFollowUpValue(options[3]?.value)).toEqual({ runId: 'run-demo-1', followUpId: 'backup', seq: 1, seconds: 7 * 86_400 });
  });

  it('once snoozed say until when and keep only Done; once done say who and lose the buttons', () => {
    const snoozed = stateOf(eventsAfter([remind(DUE), { type: 'follow_up.snooze', at: DUE + 1000, actor: actor(dba2), followUpId: 'backup', seconds: 3600, reminder: 1 }]));
    const s = renderFollowUpReminder(snoozed, 'backup', 1, DUE + 2000);
    expect(JSON.stringify(s?.blocks)).toContain('💤 Snoozed by <@UDBA2> until');
    expect(buttonsIn(s?.blocks).map((b) => b.actionId)).toEqual(['followup.done']);
    const done = evolve(snoozed, { type: 'follow_up.done', at: DUE + 5000, followUpId: 'backup', by: dba1 }) as RunState;
    const d = renderFollowUpReminder(done, 'backup', 1, DUE + 6000);
    expect(JSON.stringify(d?.blocks)).toContain('✅ Done — marked by <@UDBA1>');
    expect(buttonsIn(d?.blocks)).toEqual([]);
    expect(JSON.stringify(d?.blocks).includes('static_select')).toBe(false);
  });

  it('refuses a button value it did not make', () => {
    expect(decodeFollowUpValue(encodeFollowUpValue({ runId: 'r', followUpId: 'f', seq: 2 }))).toEqual({ runId: 'r', followUpId: 'f', seq: 2 });
    for (const raw of [undefined, '', 'nope', '{"r":"r","f":"f","n":0}', '{"r":"r","f":"f","n":1,"x":1}']) expect(decodeFollowUpValue(raw)).toBeNull();
  });
});

describe('follow-ups in /migrate status, on the root message and in the report', () => {
  it('lists open ones with their state and leaves done ones out', () => {
    const events = eventsAfter([remind(DUE), { type: 'follow_up.done', at: DUE + 1000, actor: actor(dba1), followUpId: 'backup' }]);
    const text = renderFollowUpStatus([stateOf(events)], DUE + 2000);
    expect(text).toContain('*Follow-ups after go-live*');
    expect(text).toContain('1 of 2 done');
    expect(text).toContain('⏳ *Archive SQL Server* — for Migration lead (<@ULEAD>, <@ULEAD2>) — due');
    expect(text).not.toContain('Backup PostgreSQL');
    expect(renderFollowUpStatus([stateOf(eventsAfter([]))], DUE + 2000)).toContain('🔔 *Backup PostgreSQL* — for Database administrator (<@UDBA1>, <@UDBA2>) — due since');
    expect(followUpRootLine(stateOf(events))).toContain('1 of 2 done · next: *Archive SQL Server*');
  });

  it('says nothing for a run without follow-ups', () => {
    const plain = stateOf(decideAll(null, [startCommand({ plan: planOfSteps([{ id: 'signoff', approve: 'lead', action: 'manual' }]) }), cmd.approve('signoff', lead2)]).events);
    expect(renderFollowUpStatus([plain], DUE)).toBe('');
    expect(followUpRootLine(plain)).toBeNull();
  });

  it('puts them in the report: who marked which done, reminders and escalations, and the audit trail', () => {
    const events = eventsAfter([remind(DUE), { type: 'follow_up.done', at: DUE + 60_000, actor: actor(dba1), followUpId: 'backup' }]);
    const state = stateOf(events);
    const report = buildReport(state, events, { now: state.finishedAt ?? 0 });
    expect(report.markdown).toContain('## Follow-ups after go-live');
    expect(report.markdown).toContain('| Backup PostgreSQL | Database administrator | 2024-03-10 22:01:00 UTC | done by @UDBA1 at 2024-03-10 22:02:00 UTC | 1 |');
    expect(report.markdown).toContain('| Archive SQL Server | Migration lead | 2024-04-08 22:01:00 UTC | open | 0 |');
    expect(report.markdown).toContain('- Follow-ups after go-live: 1 of 2 done');
    expect(report.audit.events.filter((e) => e.type.startsWith('follow_up.')).map((e) => [e.type, e.user])).toEqual([
      ['follow_up.reminded', null],
      ['follow_up.done', dba1],
    ]);
    // The run itself is reported as it finished.
    expect(report.figures.status).toBe('completed');
    expect(decide(state, cmd.pause(USERS.lead))).toMatchObject({ ok: false, code: 'run.finished' });
  });
});
