import { allSteps, type Plan, type PlanRole } from '../../runbook/plan.js';
import { isMember, type Actor } from '../../runbook/policy.js';

/**
 * Who acts in a headless rehearsal: real members of the runbook's roles, so the
 * core's role checks, N-of-M and separation of duties apply unchanged. A role
 * given only as user-groups gets stand-ins that belong to those groups.
 */
const standIn = (role: PlanRole, n: number): Actor => ({ id: `U0REHEARSE${role.id.toUpperCase().replace(/[^A-Z0-9]/g, '')}${n}`, groups: role.usergroups });

function actorsOf(role: PlanRole): Actor[] {
  const members = role.members.map((id): Actor => ({ id, groups: [] }));
  // One more stand-in than the quorum, so the person who started the run can be left out.
  const standIns = role.usergroups.length > 0 ? Array.from({ length: role.minApprovals + 1 }, (_, i) => standIn(role, i + 1)) : [];
  return [...members, ...standIns];
}

/** Who starts the run: a member of the first role allowed to start (any role when the runbook does not say). */
export function starterOf(plan: Plan): Actor | null {
  const roles = plan.permissions.start === null ? Object.values(plan.roles) : plan.permissions.start.map((r) => plan.roles[r]).filter((r) => r !== undefined);
  for (const role of roles) {
    const first = actorsOf(role)[0];
    if (first) return first;
  }
  return null;
}

type Approvers = { ok: true; actors: Actor[] } | { ok: false; reason: string };

/** As many members of the step's role as its quorum needs, leaving out the starter where separation of duties forbids them. */
export function approversOf(plan: Plan, roleId: string, starter: Actor, already: readonly string[] = []): Approvers {
  const role = plan.roles[roleId];
  if (!role) return { ok: false, reason: `the role ${roleId} is not declared` };
  const eligible = actorsOf(role).filter((a) => (role.requesterMayApprove || a.id !== starter.id) && isMember(role, a) && !already.includes(a.id));
  const needed = role.minApprovals - already.length;
  if (eligible.length < needed) {
    return { ok: false, reason: `${role.title} needs ${role.minApprovals} approval(s) and has only ${eligible.length + already.length} member(s) who may give them (the run's starter ${starter.id} may not approve for it)` };
  }
  return { ok: true, actors: eligible.slice(0, Math.max(0, needed)) };
}

/** The roles a runbook's forward steps ask, for --auto-approve's default (all of them) and its check. */
export const rolesAsked = (plan: Plan): string[] => [...new Set(allSteps(plan).map((s) => s.approve))];
