import type { RunEvent } from '../events.js';

/** People's names by Slack user id (from users.info, or a runbook's contacts); whoever is missing is shown by id. */
export type Names = Readonly<Record<string, string>>;

const SLACK_USER = /^[UW][A-Z0-9]+$/;

/** A Slack user id (not a process such as "worker" or "scheduler"). */
export const isSlackUser = (id: string): boolean => SLACK_USER.test(id);

/** Every Slack user a run's events name — who acted and who was told — in order of first mention. */
export function peopleOf(events: readonly RunEvent[]): string[] {
  const seen = new Set<string>();
  const note = (v: unknown): void => {
    if (typeof v === 'string' && isSlackUser(v)) seen.add(v);
  };
  for (const event of events) {
    const e: Record<string, unknown> = { ...event };
    note(e['by']);
    note(e['requestedBy']);
    const to = e['to'];
    if (Array.isArray(to)) to.forEach(note);
  }
  return [...seen];
}

/** The core's token for a person (mention() in runbook/policy.ts), one Slack user id inside. */
const MENTION = /<@([UW][A-Z0-9]+)>/g;

/**
 * Text written by the core or the engine ("aborted by <@U0LEAD>") for a
 * surface Slack does not render (a terminal, a Markdown file): each person by
 * name, as nameOf gives it. Linear in the text's length.
 */
export function mentionsAsNames(text: string, names: Names): string {
  return text.replace(MENTION, (_, id: string) => nameOf(names, id));
}

/** "Dr. Ingrid Hoffmann"; a person whose name is unknown is "@U0KGVDBA2"; a process ("worker") is itself. */
export function nameOf(names: Names, id: string): string {
  const name = names[id];
  if (name) return name;
  return isSlackUser(id) ? `@${id}` : id;
}
