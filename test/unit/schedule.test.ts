import { describe, expect, it } from 'vitest';
import { dueMilestones, milestones, parseScheduleTime, scheduleFinished, unconfirmedRoles, type Milestone } from '../../runbook/schedule.js';

const H = 3_600_000;
const M = 60_000;
/** T: the run's start; every time below is relative to it. */
const T = Date.UTC(2024, 2, 9, 22, 0, 0);

const keysOf = (ms: readonly Milestone[]): string[] => ms.map((m) => m.key);
const plan = (createdAt: number, windowStart: number | null = null): Milestone[] => milestones({ at: T, createdAt, windowStart, confirmWithinMs: 20 * M });

describe('milestones of a scheduled run', () => {
  it('scheduled two days ahead: reminders at T-24h, T-1h, T-10m, roll call 1 at T-24h (deadline T-1h), roll call 2 at T, start at T', () => {
    const ms = plan(T - 48 * H);
    expect(ms.map((m) => [m.key, (m.due - T) / M])).toEqual([
      ['remind-24h', -1440],
      ['rollcall-1', -1440],
      ['remind-1h', -60],
      ['rollcall-1-escalate', -60],
      ['remind-10m', -10],
      ['rollcall-2', 0],
      ['start', 0],
      ['rollcall-2-escalate', 20],
    ]);
    expect(ms.find((m) => m.key === 'rollcall-1')).toMatchObject({ deadline: T - H });
  });

  it('scheduled 3 hours ahead: no T-24h reminder, roll call 1 at once', () => {
    const created = T - 3 * H;
    const ms = plan(created);
    expect(keysOf(ms)).not.toContain('remind-24h');
    expect(ms.find((m) => m.key === 'rollcall-1')?.due).toBe(created);
  });

  it('scheduled 30 minutes ahead: only the T-10m reminder, no first roll call', () => {
    expect(keysOf(plan(T - 30 * M))).toEqual(['remind-10m', 'rollcall-2', 'start', 'rollcall-2-escalate']);
  });

  it('holds the second roll call when the runbook window opens, if that is before T', () => {
    const ms = plan(T - 48 * H, T - 30 * M);
    expect(ms.find((m) => m.key === 'rollcall-2')).toMatchObject({ due: T - 30 * M, deadline: T - 10 * M });
    // A window that opens after T (or was already open when scheduled) falls back to T.
    expect(plan(T - 48 * H, T + H).find((m) => m.key === 'rollcall-2')?.due).toBe(T);
  });
});

describe('dueMilestones', () => {
  const ms = plan(T - 48 * H);

  it('sends nothing early and each milestone once', () => {
    expect(dueMilestones(ms, T - 24 * H - 1, new Set())).toEqual({ send: [], skip: [] });
    const due = dueMilestones(ms, T - 24 * H, new Set());
    expect(keysOf(due.send)).toEqual(['remind-24h', 'rollcall-1']);
    expect(dueMilestones(ms, T - 23 * H, new Set(['remind-24h', 'rollcall-1']))).toEqual({ send: [], skip: [] });
  });

  it('after downtime sends only the latest reminder and skips the overtaken ones', () => {
    const done = new Set(['remind-24h', 'rollcall-1']);
    const due = dueMilestones(ms, T - 5 * M, done);
    expect(keysOf(due.send)).toEqual(['rollcall-1-escalate', 'remind-10m']);
    expect(due.skip).toEqual(['remind-1h']);
  });

  it('skips a roll call whose deadline passed unsent, and its escalation with it', () => {
    const due = dueMilestones(ms, T - 30 * M, new Set(['remind-24h']));
    expect(due.skip).toEqual(['rollcall-1', 'rollcall-1-escalate']);
    // The T-1h reminder is late but still the latest one due: it is sent (saying how long is really left).
    expect(keysOf(due.send)).toEqual(['remind-1h']);
  });

  it('starts at T, even when web was down across T, without a stale reminder', () => {
    const done = new Set(['remind-24h', 'rollcall-1', 'remind-1h', 'rollcall-1-escalate']);
    const due = dueMilestones(ms, T + 5 * M, done);
    expect(keysOf(due.send)).toEqual(['rollcall-2', 'start']);
    expect(due.skip).toEqual(['remind-10m']);
  });

  it('is finished once every milestone is done or skipped', () => {
    const all = new Set(keysOf(ms));
    expect(scheduleFinished(ms, all)).toBe(true);
    all.delete('rollcall-2-escalate');
    expect(scheduleFinished(ms, all)).toBe(false);
  });
});

describe('roll call and time parsing', () => {
  it('lists the roles nobody confirmed for', () => {
    expect(unconfirmedRoles(['lead', 'dba', 'owner'], new Set(['dba']))).toEqual(['lead', 'owner']);
  });

  it('accepts ISO times with an offset only', () => {
    expect(parseScheduleTime('2024-03-09T23:00:00+01:00')).toBe(T);
    expect(parseScheduleTime('2024-03-09T22:00Z')).toBe(T);
    expect(parseScheduleTime('2024-03-09T22:00:00')).toBeNull();
    expect(parseScheduleTime('tomorrow')).toBeNull();
    expect(parseScheduleTime('2024-02-31T22:00:00Z')).toBeNull();
  });
});
