import { parseDocument } from 'yaml';
import { formatPath } from '../../runbook/load.js';
import { placeholdersIn } from '../../runbook/placeholders.js';

/**
 * What a team writes where `cutover plan` left FILL IN, by the placeholder's
 * path (`roles.dba.members[0]`, `phases[6].steps[1].params.flip`): the value
 * replaces the placeholder node (a list given for a list's first item replaces
 * the list), comments and anchors of the file kept.
 */
export function fillPlaceholders(text: string, fill: (path: string) => unknown): string {
  const doc = parseDocument(text, { merge: true });
  const raw = doc.toJS() as Record<string, unknown>;
  const top = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')));
  for (const { path } of placeholdersIn(top)) {
    const value = fill(formatPath(path));
    if (value === undefined) throw new Error(`no value for the placeholder at ${formatPath(path)}`);
    // A list for the only item of a list (role members, smoke checks) replaces the list.
    const whole = Array.isArray(value) && path[path.length - 1] === 0;
    doc.setIn(whole ? path.slice(0, -1) : path, doc.createNode(value));
  }
  return doc.toString({ lineWidth: 0 });
}
