/**
 * When a scheduled run's reminders, roll calls and start are due. Pure: the
 * sweep passes the time and what it already sent; it performs what is due and
 * records each key once (so two sweeps, or a restart, never send one twice).
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;

export const REMINDERS = [
  { key: 'remind-24h', beforeMs: 24 * HOUR, label: 'in 24 hours' },
  { key: 'remind-1h', beforeMs: HOUR, label: 'in 1 hour' },
  { key: 'remind-10m', beforeMs: 10 * MINUTE, label: 'in 10 minutes' },
] as const;

export type RollCall = 1 | 2;

export type Milestone =
  | { kind: 'reminder'; key: string; due: number; label: string }
  /** Every role is asked to confirm presence; a role nobody confirmed for by `deadline` is escalated. */
  | { kind: 'rollcall'; key: string; call: RollCall; due: number; deadline: number }
  | { kind: 'rollcall-escalate'; key: string; call: RollCall; due: number }
  | { kind: 'start'; key: 'start'; due: number };

export interface ScheduleTimes {
  /** T: when the run starts. */
  at: number;
  /** When it was scheduled: milestones already past then are not sent. */
  createdAt: number;
  /** The runbook's window.start, if any. */
  windowStart: number | null;
  /** How long the window-opening roll call waits before escalating (the policy's escalate_after). */
  confirmWithinMs: number;
}

/**
 * The milestones of one schedule: reminders at T-24h, T-1h and T-10m; roll
 * call 1 at T-24h (at once if scheduled later, as long as T-1h is still
 * ahead) with its deadline at T-1h; roll call 2 when the window opens
 * (window.start when it lies between scheduling and T, else T); the start at T.
 */
export function milestones(t: ScheduleTimes): Milestone[] {
  const out: Milestone[] = [];
  for (const r of REMINDERS) {
    const due = t.at - r.beforeMs;
    if (due >= t.createdAt) out.push({ kind: 'reminder', key: r.key, due, label: r.label });
  }
  const firstCall = Math.max(t.at - 24 * HOUR, t.createdAt);
  if (firstCall < t.at - HOUR) {
    out.push({ kind: 'rollcall', key: 'rollcall-1', call: 1, due: firstCall, deadline: t.at - HOUR });
    out.push({ kind: 'rollcall-escalate', key: 'rollcall-1-escalate', call: 1, due: t.at - HOUR });
  }
  const opens = t.windowStart !== null && t.windowStart >= t.createdAt && t.windowStart <= t.at ? t.windowStart : t.at;
  out.push({ kind: 'rollcall', key: 'rollcall-2', call: 2, due: opens, deadline: opens + t.confirmWithinMs });
  out.push({ kind: 'rollcall-escalate', key: 'rollcall-2-escalate', call: 2, due: opens + t.confirmWithinMs });
  out.push({ kind: 'start', key: 'start', due: t.at });
  return out.sort((a, b) => a.due - b.due);
}

export interface DueMilestones {
  /** To perform now, oldest first. */
  send: Milestone[];
  /** Overtaken while nobody swept (e.g. web was down): record as done without sending. */
  skip: string[];
}

/**
 * What is due at `now` given what was already done. A reminder overtaken by a
 * later one is skipped (after downtime only the latest is useful), as is
 * everything reminding of a start that has already happened; a roll call
 * whose deadline passed unsent is skipped, and so is its escalation.
 */
export function dueMilestones(all: readonly Milestone[], now: number, done: ReadonlySet<string>): DueMilestones {
  const pending = all.filter((m) => !done.has(m.key) && m.due <= now);
  const send: Milestone[] = [];
  const skip: string[] = [];
  const reminders = pending.filter((m) => m.kind === 'reminder');
  const latestReminder = reminders.at(-1);
  for (const m of pending) {
    switch (m.kind) {
      case 'reminder':
        if (m === latestReminder && now < startOf(all)) send.push(m);
        else skip.push(m.key);
        break;
      case 'rollcall':
        if (now < m.deadline) send.push(m);
        else skip.push(m.key, `rollcall-${m.call}-escalate`);
        break;
      case 'rollcall-escalate': {
        if (skip.includes(m.key)) break;
        // Without its roll call nobody was asked, so nobody can be blamed for not answering.
        const asked = done.has(`rollcall-${m.call}`) || send.some((s) => s.key === `rollcall-${m.call}`);
        if (asked) send.push(m);
        else skip.push(m.key);
        break;
      }
      case 'start':
        send.push(m);
        break;
    }
  }
  return { send: send.filter((m) => !skip.includes(m.key)), skip: [...new Set(skip)] };
}

const startOf = (all: readonly Milestone[]): number => all.find((m) => m.kind === 'start')?.due ?? Infinity;

/** True once every milestone has been sent or skipped: the schedule can be forgotten. */
export const scheduleFinished = (all: readonly Milestone[], done: ReadonlySet<string>): boolean => all.every((m) => done.has(m.key));

/** Roles nobody has confirmed for yet. */
export const unconfirmedRoles = (roles: readonly string[], confirmed: ReadonlySet<string>): string[] => roles.filter((r) => !confirmed.has(r));

/** Parses the `<ISO time>` of `/migrate schedule`: an explicit offset or Z is required, so nobody guesses a time zone. */
export function parseScheduleTime(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  // Date.parse rolls 2024-02-31 over into March; a typo must be refused, not moved.
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}
