import type { ReportFigures } from './figures.js';

/** One step's bars on the timeline, in ms from the run's start. */
export interface TimelineRow {
  stepId: string;
  label: string;
  status: string;
  /** The plan laid end to end from the run's start; null for a step without a planned duration. */
  planned: { start: number; end: number } | null;
  /** Waiting for approval (shaded), then executing; null before the step was reached. */
  wait: { start: number; end: number } | null;
  execution: { start: number; end: number } | null;
}

export interface Timeline {
  title: string;
  startedAt: number;
  /** The axis runs from 0 to this many ms (the longer of plan and actual, at least a minute). */
  spanMs: number;
  /** The maintenance window's end, ms from the start, when the runbook declares one. */
  windowEndMs: number | null;
  /** The runbook's time zone, for the axis and the caption. */
  timeZone: string;
  rows: TimelineRow[];
}

/** Lays figures onto one time axis for the chart. Pure; `now` ends the bars of an unfinished step. */
export function timelineOf(f: ReportFigures, now: number): Timeline {
  let plannedCursor = 0;
  let end = 60_000;
  const rel = (at: number): number => Math.max(0, at - f.startedAt);
  const rows = f.steps.map((s): TimelineRow => {
    const planned = s.plannedSeconds === null ? null : { start: plannedCursor, end: plannedCursor + s.plannedSeconds * 1000 };
    if (planned) plannedCursor = planned.end;
    const finish = s.finishedAt ?? (s.requestedAt === null ? null : now);
    const approved = s.approvedAt ?? finish;
    const wait = s.requestedAt !== null && approved !== null ? { start: rel(s.requestedAt), end: rel(approved) } : null;
    const execution = s.approvedAt !== null && finish !== null ? { start: rel(s.approvedAt), end: rel(finish) } : null;
    end = Math.max(end, planned?.end ?? 0, wait?.end ?? 0, execution?.end ?? 0);
    return { stepId: s.stepId, label: s.title, status: s.status, planned, wait, execution };
  });
  const windowEndMs = f.window?.end != null ? f.window.end - f.startedAt : null;
  // The window end is drawn only when it falls near the night, not hours after it.
  if (windowEndMs !== null && windowEndMs > 0 && windowEndMs <= end * 1.5) end = Math.max(end, windowEndMs);
  return { title: f.title, startedAt: f.startedAt, spanMs: end, windowEndMs, timeZone: f.timeZone, rows };
}
