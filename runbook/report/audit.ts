import type { RunEvent } from '../events.js';

export interface AuditEntry {
  seq: number;
  at: number;
  /** ISO 8601, UTC. */
  time: string;
  type: string;
  /** The Slack user (or process) the event names, null when none does. */
  user: string | null;
  event: RunEvent;
}

export interface AuditTrail {
  runId: string;
  runbook: string;
  generatedAt: string;
  events: AuditEntry[];
}

/** Every event of the run, in order, with its time and who did it: the audit trail, as JSON-ready data. */
export function auditTrail(runId: string, runbook: string, events: readonly RunEvent[], generatedAt: number): AuditTrail {
  return {
    runId,
    runbook,
    generatedAt: new Date(generatedAt).toISOString(),
    events: events.map((event, i) => {
      const by: unknown = 'by' in event ? event.by : undefined;
      return { seq: i + 1, at: event.at, time: new Date(event.at).toISOString(), type: event.type, user: typeof by === 'string' ? by : null, event };
    }),
  };
}
