import type { RunEvent } from '../events.js';
import { followUpAnchor, followUpViews } from '../follow-ups.js';
import { allSteps } from '../plan.js';
import type { RunState } from '../state.js';
import { phaseTimings, runTiming, stepTimings, type PhaseTiming, type RunTiming, type StepTiming } from '../timing.js';
import { stepOutcome, type StepOutcome } from './details.js';
import { isSlackUser, nameOf, type Names } from './people.js';
import { backupFigures, decisionsOf, goLiveFigure, outcomeInWords, rollbackFigure, type BackupFigure, type DecisionFigure, type GoLiveFigure, type RollbackFigure } from './record.js';

export interface ApprovalFigure {
  stepId: string;
  title: string;
  attempt: number;
  by: string;
  at: number;
  /** From the approval request of that attempt to this approval. */
  waitedSeconds: number | null;
}

/** An `escalation.*` or `go_no_go.*` event (written by the escalation sweep), read field by field so the report does not depend on their exact shape. */
export interface EscalationFigure {
  at: number;
  type: string;
  stepId: string | null;
  level: string | null;
  reason: string | null;
  /** Slack ids the escalation went to, when the event names them. */
  to: string[];
}

/** A try of a step that met a transient error and was retried automatically (a `step.retrying` event). */
export interface RetryFigure {
  at: number;
  stepId: string;
  title: string;
  attempt: number;
  try: number;
  of: number;
  code: string;
  message: string;
  delayMs: number;
}

export interface ResultFigure extends StepOutcome {
  stepId: string;
  title: string;
  status: string;
  summary: string | null;
  error: string | null;
}

/** A follow-up after go-live as the report shows it: when it was due and who marked it done. */
export interface FollowUpFigure {
  id: string;
  title: string;
  role: string;
  dueAt: number;
  done: { by: string; at: number } | null;
  reminders: number;
  escalated: boolean;
  /** The latest snooze, in force or not. */
  lastSnooze: { by: string; at: number; until: number } | null;
}

export interface ReportFigures {
  runId: string;
  runbook: string;
  title: string;
  status: RunState['status'];
  dryRun: boolean;
  startedBy: string;
  startedAt: number;
  finishedAt: number | null;
  abort: RunState['abort'];
  /** The runbook's maintenance window (epoch ms), when it declares one. */
  window: { start: number | null; end: number | null } | null;
  run: RunTiming;
  phases: PhaseTiming[];
  steps: StepTiming[];
  approvals: ApprovalFigure[];
  escalations: EscalationFigure[];
  /** Automatic retries after transient errors, in order (optional: figures built before retries lack it). */
  retries?: RetryFigure[];
  /** Steps whose result or failure carries figures or a summary. */
  results: ResultFigure[];
  /** Slack users who acted on the run (started, approved, held, skipped, paused…), in order of first action. */
  people: string[];
  /** The three longest approval waits (> 0). */
  topWaits: StepTiming[];
  /** The three largest overruns of finished steps against their plan (> 0). */
  topOverruns: StepTiming[];
  eventCount: number;
  /** People's names by Slack id, for everything above that names someone. */
  names: Names;
  /** The runbook's time zone: every time in the report and the PNG is written in it. */
  timeZone: string;
  /** The outcome in words ("rolled back before go-live"). */
  outcome: string;
  /** Every decision with who, when and why, oldest first. */
  decisions: DecisionFigure[];
  goLive: GoLiveFigure | null;
  backups: BackupFigure[];
  rollback: RollbackFigure | null;
  /** What the follow-ups count from (absent when the run schedules none), and each follow-up. */
  followUpsFrom: { at: number; from: 'go-live' | 'completion' } | null;
  followUps: FollowUpFigure[];
}

const TOP = 3;

function field(e: Record<string, unknown>, name: string): string | null {
  const value = e[name];
  return typeof value === 'string' ? value : null;
}

function escalationOf(event: RunEvent, names: Names): EscalationFigure | null {
  const rollbackAlert = event.type === 'rollback.escalated' || event.type === 'rollback.acknowledged' || event.type === 'rollback.resolved';
  if (!event.type.startsWith('escalation.') && !event.type.startsWith('go_no_go.') && !rollbackAlert) return null;
  const e: Record<string, unknown> = { ...event };
  const rawTo = e['to'];
  const to = Array.isArray(rawTo) ? rawTo.filter((v): v is string => typeof v === 'string') : typeof rawTo === 'string' ? [rawTo] : [];
  const level = e['level'];
  return {
    at: event.at,
    type: event.type,
    stepId: field(e, 'stepId'),
    level: typeof level === 'number' ? String(level) : field(e, 'level'),
    // An acknowledgement's "why" is who took it on.
    reason: field(e, 'reason') ?? field(e, 'decision') ?? field(e, 'message') ?? (field(e, 'by') ? `acknowledged by ${nameOf(names, field(e, 'by') ?? '')}` : null),
    to,
  };
}

/** The figures of a run: everything the report, its chart and its lessons-learned section are written from. Pure. */
export function reportFigures(state: RunState, events: readonly RunEvent[], now: number, names: Names = {}): ReportFigures {
  const firstRequested: Record<string, number> = {};
  const requestedAt = new Map<string, number>();
  const approvals: ApprovalFigure[] = [];
  const people: string[] = [];
  const escalations: EscalationFigure[] = [];
  const retries: RetryFigure[] = [];
  const titles = new Map(allSteps(state.plan).map((s) => [s.id, s.title]));
  for (const event of events) {
    const by: unknown = 'by' in event ? event.by : undefined;
    if (typeof by === 'string' && isSlackUser(by) && !people.includes(by)) people.push(by);
    const escalation = escalationOf(event, names);
    if (escalation) escalations.push(escalation);
    if (event.type === 'step.retrying') {
      retries.push({ at: event.at, stepId: event.stepId, title: titles.get(event.stepId) ?? event.stepId, attempt: event.attempt, try: event.try, of: event.of, code: event.code, message: event.message, delayMs: event.delayMs });
    }
    if (event.type === 'step.approval_requested' || event.type === 'step.retried') {
      firstRequested[event.stepId] ??= event.at;
      requestedAt.set(`${event.stepId}#${event.attempt}`, event.at);
    }
    if (event.type === 'step.approved') {
      const asked = requestedAt.get(`${event.stepId}#${event.attempt}`);
      approvals.push({
        stepId: event.stepId,
        title: titles.get(event.stepId) ?? event.stepId,
        attempt: event.attempt,
        by: event.by,
        at: event.at,
        waitedSeconds: asked === undefined ? null : Math.max(0, (event.at - asked) / 1000),
      });
    }
  }
  const goLive = goLiveFigure(state);
  const steps = stepTimings(state, now, firstRequested);
  const phases = phaseTimings(state, steps);
  const results = steps.flatMap((t): ResultFigure[] => {
    const step = state.steps[t.stepId];
    if (!step || (!step.result && !step.error)) return [];
    const outcome = stepOutcome(step.result?.details ?? step.error?.details);
    return [{ stepId: t.stepId, title: t.title, status: t.status, summary: step.result?.summary ?? null, error: step.error?.message ?? null, ...outcome }];
  });
  return {
    runId: state.runId,
    runbook: state.plan.runbook,
    title: state.plan.title,
    status: state.status,
    dryRun: state.dryRun,
    startedBy: state.startedBy,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    abort: state.abort,
    window: state.plan.window ?? null,
    run: runTiming(state, phases, steps, now),
    phases,
    steps,
    approvals,
    escalations,
    retries,
    results,
    people,
    topWaits: [...steps].filter((s) => (s.waitSeconds ?? 0) > 0).sort((a, b) => (b.waitSeconds ?? 0) - (a.waitSeconds ?? 0)).slice(0, TOP),
    topOverruns: [...steps].filter((s) => (s.driftSeconds ?? 0) > 0).sort((a, b) => (b.driftSeconds ?? 0) - (a.driftSeconds ?? 0)).slice(0, TOP),
    eventCount: events.length,
    names,
    timeZone: state.plan.timeZone ?? 'UTC',
    outcome: outcomeInWords(state.status, goLive !== null, state.dryRun),
    decisions: decisionsOf(state, events),
    goLive,
    backups: backupFigures(state),
    rollback: rollbackFigure(state),
    followUpsFrom: followUpAnchor(state),
    followUps: followUpViews(state, now).map((v) => ({
      id: v.followUp.id,
      title: v.followUp.title,
      role: state.plan.roles[v.followUp.role]?.title ?? v.followUp.role,
      dueAt: v.dueAt,
      done: v.done,
      reminders: v.reminders,
      escalated: v.escalated,
      lastSnooze: state.followUps?.[v.followUp.id]?.snoozes.at(-1) ?? null,
    })),
  };
}
