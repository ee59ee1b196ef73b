import type { RunEvent } from '../events.js';
import { isSlackUser, peopleOf, type Names } from './people.js';

export interface AuditEntry {
  seq: number;
  at: number;
  /** ISO 8601, UTC. */
  time: string;
  type: string;
  /** The Slack user (or process) the event names, null when none does. */
  user: string | null;
  /** That user's name when known (users.info or the runbook's contacts). */
  userName: string | null;
  event: RunEvent;
}

export interface AuditTrail {
  runId: string;
  runbook: string;
  generatedAt: string;
  /** Everyone the events name, by Slack id: their name, or null when it could not be learnt. */
  people: Record<string, string | null>;
  events: AuditEntry[];
}

/** Every event of the run, in order, with its time and who did it: the audit trail, as JSON-ready data. */
export function auditTrail(runId: string, runbook: string, events: readonly RunEvent[], generatedAt: number, names: Names = {}): AuditTrail {
  return {
    runId,
    runbook,
    generatedAt: new Date(generatedAt).toISOString(),
    people: Object.fromEntries(peopleOf(events).map((id) => [id, names[id] ?? null])),
    events: events.map((event, i) => {
      const by: unknown = 'by' in event ? event.by : undefined;
      const user = typeof by === 'string' ? by : null;
      const userName = user !== null && isSlackUser(user) ? (names[user] ?? null) : null;
      return { seq: i + 1, at: event.at, time: new Date(event.at).toISOString(), type: event.type, user, userName, event };
    }),
  };
}
