import type { Permission, Plan, PlanRole } from './plan.js';

/** Who is acting: a Slack user and the user-groups the bot resolved for them. */
export interface Actor {
  id: string;
  groups?: string[];
}

export function isMember(role: PlanRole, actor: Actor): boolean {
  return role.members.includes(actor.id) || role.usergroups.some((g) => actor.groups?.includes(g) ?? false);
}

/**
 * How the core and the engine name a person in the text they write: the one
 * place that decides it (eslint refuses a hand-built one). The token is
 * Slack's own `<@U…>`, because Slack is where nearly all of it is read and
 * shows it as the person with nothing to render; surfaces Slack does not
 * render (the CLI, report files) turn it into names with mentionsAsNames
 * (runbook/report/people.ts).
 */
export const mention = (userId: string): string => `<@${userId}>`;

export function describeRole(role: PlanRole): string {
  const who = [...role.members.map(mention), ...role.usergroups.map((g) => `<!subteam^${g}>`)];
  return `${role.title} (${who.join(', ')})`;
}

/** Null when allowed, else the sentence telling the actor why not. */
export function permissionRefusal(plan: Plan, permission: Permission, actor: Actor): string | null {
  const allowed = plan.permissions[permission];
  const roles = allowed === null ? Object.values(plan.roles) : allowed.map((r) => plan.roles[r]).filter((r) => r !== undefined);
  if (roles.some((r) => isMember(r, actor))) return null;
  const names = roles.map((r) => r.title).join(', ');
  return `Only members of ${names} may ${permission} a run of ${plan.runbook}; you are not in ${roles.length > 1 ? 'any of those roles' : 'that role'}.`;
}
