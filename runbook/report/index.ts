import type { Comparison } from '../compare.js';
import type { RunEvent } from '../events.js';
import type { RunState } from '../state.js';
import { auditTrail, type AuditTrail } from './audit.js';
import { reportFigures, type ReportFigures } from './figures.js';
import { reportMarkdown } from './markdown.js';
import type { Names } from './people.js';

export type { AuditTrail } from './audit.js';
export type { ReportFigures } from './figures.js';
export { timelineOf, type Timeline, type TimelineRow } from './timeline.js';
export { nameOf, peopleOf, type Names } from './people.js';

export interface ReportOptions {
  /** When the report is made: ends the timings of anything unfinished. */
  now: number;
  /** The run set against an earlier one, when there is an earlier one. */
  comparison?: Comparison | null;
  /** People's names by Slack id; anyone missing is shown by id. */
  names?: Names;
}

export interface Report {
  markdown: string;
  audit: AuditTrail;
  figures: ReportFigures;
}

/** The cutover report of a run: Markdown for people, the audit trail as data, and the figures both are made of. Pure. */
export function buildReport(state: RunState, events: readonly RunEvent[], opts: ReportOptions): Report {
  const names = opts.names ?? {};
  const figures = reportFigures(state, events, opts.now, names);
  return {
    markdown: reportMarkdown(figures, opts.comparison ?? null, opts.now),
    audit: auditTrail(state.runId, state.plan.runbook, events, opts.now, names),
    figures,
  };
}
