import type { EscalationLevel } from '../../runbook/events.js';

export type PageAction = 'trigger' | 'acknowledge' | 'resolve';
export type PageTarget = 'pagerduty' | 'webhook';

/** One thing to tell the pagers: an alert raised (again), acknowledged by a person, or resolved. */
export interface PageEvent {
  action: PageAction;
  /** `<run id>/<step id>` (or `<run id>/rollback`): every alert about one step is one incident, across attempts and repeats. */
  dedupKey: string;
  runId: string;
  runbook: string;
  /** null for an alert about the rollback itself. */
  stepId: string | null;
  level: EscalationLevel | null;
  /** What happened, for a trigger; a short line for acknowledge/resolve. */
  summary: string;
  severity: 'critical' | 'error' | 'warning' | 'info';
  at: number;
  /** Who acknowledged (a Slack user id), for acknowledge. */
  by?: string;
  round?: number;
}

export interface PageResult {
  target: PageTarget;
  ok: boolean;
  /** What happened, for the thread and the log; never a key, a secret or a full URL. */
  detail: string;
}

/** Sends page events to the targets a runbook names. Never throws: each target's failure is a result. */
export interface Pager {
  send(targets: readonly PageTarget[], event: PageEvent): Promise<PageResult[]>;
}

export const dedupKeyOf = (runId: string, stepId: string | null): string => `${runId}/${stepId ?? 'rollback'}`;

/** Severity by level: a failure, a stall or a timeout is critical; an escalated approval is an error. */
export function severityOf(level: EscalationLevel): PageEvent['severity'] {
  return level === 'escalation' ? 'error' : level === 'reminder' || level === 'unblocked' ? 'info' : 'critical';
}
