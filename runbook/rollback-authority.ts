import { rollbackSteps, type Plan, type PlanRole, type PlanStep, type RollbackScenario } from './plan.js';
import { describeRole, isMember, mention, type Actor } from './policy.js';

/**
 * Who may approve a rollback. The scenario's `approve` role is the rollback
 * authority for it; `permissions.rollback` may name deputies after it, in
 * order. Separation of duties: the requester never approves their own
 * request unless the role says `requester_may_approve`, so the approving
 * role is the first of that chain with someone *else* in it. A runbook where
 * some member of the chain could ask and nobody could answer does not load:
 * the night a rollback is needed is the wrong night to find that out.
 */

/** The scenario's role, then the deputies `permissions.rollback` lists, each once and in order. */
export function approvalChain(plan: Plan, scenario: RollbackScenario): PlanRole[] {
  const ids = [scenario.approve, ...(plan.permissions.rollback ?? [])];
  return [...new Set(ids)].map((id) => plan.roles[id]).filter((r): r is PlanRole => r !== undefined);
}

/** Whether someone other than `requester` could approve for the role (a user-group may hold anyone, so it counts). */
export function approvesWithout(role: PlanRole, requester: string): boolean {
  return role.requesterMayApprove || role.usergroups.length > 0 || role.members.some((m) => m !== requester);
}

/** The role whose members approve a rollback of `scenario` asked for by `requester`; null when nobody could. */
export function approvingRole(plan: Plan, scenario: RollbackScenario, requester: string): PlanRole | null {
  return approvalChain(plan, scenario).find((r) => approvesWithout(r, requester)) ?? null;
}

/** The people who could approve (the requester left out unless the role allows them), for the request's message and its escalation. */
export function eligibleApprovers(role: PlanRole, requester: string): string[] {
  return role.members.filter((m) => role.requesterMayApprove || m !== requester);
}

/** "Migration lead (<@U1>)", or "deputy Migration lead (<@U1>), as <@U2> asked and is the only member of Rollback authority". */
export function describeApprover(plan: Plan, scenario: RollbackScenario, requester: string): string {
  const role = approvingRole(plan, scenario, requester);
  if (!role) return 'nobody';
  const who = [...eligibleApprovers(role, requester).map(mention), ...role.usergroups.map((g) => `<!subteam^${g}>`)].join(', ');
  const authority = plan.roles[scenario.approve];
  if (role.id === scenario.approve || !authority) return `${role.title} (${who})`;
  return `deputy ${role.title} (${who}), since ${mention(requester)} asked and ${authority.title} has nobody else who may approve`;
}

/** Whether the actor may approve a rollback `requester` asked for: a member of the approving role, never the requester unless it allows. */
export function mayApproveRollback(plan: Plan, scenario: RollbackScenario, requester: string, actor: Actor): boolean {
  const role = approvingRole(plan, scenario, requester);
  return role !== null && isMember(role, actor) && (actor.id !== requester || role.requesterMayApprove);
}

/** Why nobody could approve a rollback this person asks for, or null when someone can. */
export function unapprovableRequest(plan: Plan, scenario: RollbackScenario, requester: string): string | null {
  if (approvingRole(plan, scenario, requester)) return null;
  const chain = approvalChain(plan, scenario);
  const roles = chain.map(describeRole).join(', then ');
  return (
    `Nobody could approve this rollback: ${roles || `role "${scenario.approve}"`} ${chain.length > 1 ? 'have' : 'has'} no member but you, and you may not approve your own request (separation of duties). ` +
    `Ask another member of the rollback authority to request it, or name a deputy after it in the runbook's permissions.rollback.`
  );
}

/** Rollback steps whose role could not reach its approvals without the requester: the rollback would stall there. */
export function stuckRollbackSteps(plan: Plan, scenarioId: string, requester: string): PlanStep[] {
  return rollbackSteps(plan, scenarioId).filter((s) => {
    const role = plan.roles[s.approve];
    if (!role || role.requesterMayApprove || role.usergroups.length > 0) return false;
    return role.members.filter((m) => m !== requester).length < role.minApprovals;
  });
}

/** Everyone who may ask for a rollback of this scenario: its own role and `permissions.rollback` (every role when unset). */
function possibleRequesters(plan: Plan, scenario: RollbackScenario): string[] {
  const asking = plan.permissions.rollback ?? Object.keys(plan.roles);
  const ids = [scenario.approve, ...asking];
  return [...new Set(ids.flatMap((id) => plan.roles[id]?.members ?? []))];
}

/** Load-time problems: a scenario some possible requester could ask for and nobody could approve. */
export function rollbackApprovalProblems(plan: Plan): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = [];
  for (const scenario of plan.rollbackScenarios) {
    if (!plan.roles[scenario.approve]) continue;
    const stranded = possibleRequesters(plan, scenario).filter((u) => approvingRole(plan, scenario, u) === null);
    if (stranded.length === 0) continue;
    const role = plan.roles[scenario.approve] as PlanRole;
    const deputy = Object.keys(plan.roles).find((id) => id !== role.id) ?? 'deputy';
    out.push({
      path: ['rollback', scenario.id, 'approve'],
      message:
        `rollback authority "${role.id}" could not approve a rollback requested by ${stranded.join(', ')}: ` +
        `${role.members.length === 1 ? 'its only member' : 'no other member of the roles that may approve'} may not approve their own request (requester_may_approve is false). ` +
        `Name a deputy after it in permissions.rollback (e.g. permissions: { rollback: [${role.id}, ${deputy}] }), add a member, or set requester_may_approve`,
    });
  }
  return out;
}
