import type { Runbook } from '../runbook/load.js';
import type { Person } from '../workspace/view.js';

/** The person who belongs to no role: act as them to see what everyone else is refused. */
export const OUTSIDER: Person = { id: 'U0OUTSIDER', name: 'outsider', realName: 'Olli Outsider', roles: [], outsider: true };

/** The runbook the README and the page point a newcomer to: its people come first, so the page opens as its lead. */
export const SAMPLE_RUNBOOK = 'kgv-local';

/**
 * The local workspace's people, from the runbooks (the sample's first, so
 * the page opens as the person the README names): every member of every role,
 * named by the runbook's contacts where one has their Slack id (else after the
 * role), plus one outsider. A role given as user-groups gets the contacts of
 * that role as the group's members, or one stand-in member per group when no
 * contact has a Slack id, so usergroups.users.list answers as Slack would.
 */
export function peopleFromRunbooks(unordered: Runbook[]): { people: Person[]; usergroups: Record<string, string[]> } {
  const runbooks = [...unordered].sort((a, b) => Number(b.name === SAMPLE_RUNBOOK) - Number(a.name === SAMPLE_RUNBOOK));
  const people = new Map<string, Person>();
  const usergroups: Record<string, string[]> = {};
  const names = new Map<string, string>();
  for (const rb of runbooks) for (const c of rb.doc.contacts) if (c.slack) names.set(c.slack, c.name);

  const add = (id: string, fallbackName: string, role: string): void => {
    const person = people.get(id) ?? { id, name: '', realName: names.get(id) ?? fallbackName, roles: [] };
    if (!person.roles.includes(role)) person.roles.push(role);
    people.set(id, person);
  };

  for (const rb of runbooks) {
    for (const role of Object.values(rb.plan.roles)) {
      const label = `${rb.name}: ${role.title}`;
      role.members.forEach((id, i) => add(id, role.members.length > 1 ? `${role.title} ${i + 1}` : role.title, label));
      for (const group of role.usergroups) {
        const contacts = rb.doc.contacts.filter((c) => c.role === role.id && c.slack).map((c) => c.slack as string);
        const members = contacts.length > 0 ? contacts : [`U${group.replace(/[^A-Z0-9]/gi, '').toUpperCase()}`];
        usergroups[group] = [...new Set([...(usergroups[group] ?? []), ...members])];
        for (const id of members) add(id, `${role.title} (@${group})`, label);
      }
    }
  }
  const all = [...people.values(), OUTSIDER];
  const taken = new Set<string>();
  for (const person of all) person.name = uniqueHandle(person.realName, taken);
  return { people: all, usergroups };
}

/** A Slack-style handle from a name: "On-call DBA" → "on-call.dba", made unique with a number. */
function uniqueHandle(realName: string, taken: Set<string>): string {
  const base =
    realName
      .toLowerCase()
      // Letters NFKD does not take apart, spelled as their owners do in a handle.
      .replace(/ß/g, 'ss').replace(/æ/g, 'ae').replace(/œ/g, 'oe').replace(/ø/g, 'o').replace(/ł/g, 'l').replace(/ı/g, 'i').replace(/đ/g, 'd')
      .normalize('NFKD')
      .replace(/[^\w\s.-]/g, '')
      // "Dr. Ingrid Hoffmann" → "dr.ingrid.hoffmann": a dot and a space (or several) are one separator, never "..".
      .replace(/[\s.]+/g, '.')
      .replace(/^[.-]+|[.-]+$/g, '') || 'person';
  let handle = base;
  for (let n = 2; taken.has(handle); n += 1) handle = `${base}${n}`;
  taken.add(handle);
  return handle;
}
