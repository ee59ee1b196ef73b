import { decide, type Command } from '../../runbook/decide.js';
import type { RunEvent } from '../../runbook/events.js';
import type { Permission, Plan, PlanFollowUp, PlanPhase, PlanRole, PlanStep } from '../../runbook/plan.js';
import type { Actor } from '../../runbook/policy.js';
import { evolve, type RunState } from '../../runbook/state.js';

/**
 * Fixture factories with overridable defaults for the pure core. Every value
 * a test does not care about has a sensible default; a test names only what
 * it is about (e.g. `makePlan({ roles: { dba: { minApprovals: 2 } } })`).
 */

/** Slack user ids used throughout. LEAD starts runs unless a test says otherwise. */
export const USERS = {
  lead: 'ULEAD',
  lead2: 'ULEAD2',
  dba1: 'UDBA1',
  dba2: 'UDBA2',
  owner: 'UOWNER',
  outsider: 'UOUTSIDER',
} as const;

/** Fixed instant (2024-03-09 22:00 UTC) so times in refusal sentences are predictable. */
export const T0 = Date.UTC(2024, 2, 9, 22, 0, 0);
/** T0 plus a number of minutes. */
export const at = (minutes: number): number => T0 + minutes * 60_000;

export const RUN_ID = 'run-demo-1';
export const RUNBOOK = 'demo';

export function makeRole(id: string, overrides: Partial<PlanRole> = {}): PlanRole {
  return { id, title: id, members: [], usergroups: [], minApprovals: 1, requesterMayApprove: false, ...overrides };
}

export function makeStep(overrides: Partial<PlanStep> & { id: string }): PlanStep {
  const action = overrides.action ?? 'sql';
  return {
    title: `Step ${overrides.id}`,
    phaseId: 'phase',
    approve: 'dba',
    action,
    manual: action === 'manual',
    plannedSeconds: null,
    timeoutSeconds: null,
    confirm: null,
    skippableBy: [],
    description: null,
    gate: null,
    ...overrides,
  };
}

/** A follow-up after go-live: due a day after, for the dba role, reminded daily, escalated after two days, snoozed a day. */
export function makeFollowUp(overrides: Partial<PlanFollowUp> & { id: string }): PlanFollowUp {
  return {
    title: `Follow-up ${overrides.id}`,
    description: null,
    afterSeconds: 86_400,
    role: 'dba',
    checklist: [],
    remindEverySeconds: 86_400,
    escalateAfterSeconds: 2 * 86_400,
    snoozeSeconds: 86_400,
    ...overrides,
  };
}

export interface PlanOverrides {
  runbook?: string;
  title?: string;
  /** Merged into the default roles (lead, dba, owner); a new key adds a role. */
  roles?: Record<string, Partial<PlanRole>>;
  /** Replaces the default phases. */
  phases?: PlanPhase[];
  permissions?: Partial<Record<Permission, string[] | null>>;
  rollbackScenarios?: Plan['rollbackScenarios'];
  followUps?: PlanFollowUp[];
}

export function makePlan(overrides: PlanOverrides = {}): Plan {
  const defaults: Record<string, PlanRole> = {
    lead: makeRole('lead', { title: 'Migration lead', members: [USERS.lead, USERS.lead2] }),
    dba: makeRole('dba', { title: 'Database administrator', members: [USERS.dba1, USERS.dba2] }),
    owner: makeRole('owner', { title: 'Application owner', members: [USERS.owner], requesterMayApprove: true }),
  };
  const roles: Record<string, PlanRole> = { ...defaults };
  for (const [id, patch] of Object.entries(overrides.roles ?? {})) {
    roles[id] = { ...(defaults[id] ?? makeRole(id)), ...patch, id };
  }
  return {
    runbook: overrides.runbook ?? RUNBOOK,
    title: overrides.title ?? 'Demo cutover',
    roles,
    phases: overrides.phases ?? [
      {
        id: 'prep',
        title: '1. Preparation',
        plannedSeconds: 180,
        steps: [
          makeStep({ id: 'ready', title: 'Team ready', phaseId: 'prep', approve: 'dba', action: 'manual', plannedSeconds: 120 }),
          makeStep({ id: 'backup', title: 'Back up the source', phaseId: 'prep', approve: 'dba', action: 'shell', skippableBy: ['lead'], plannedSeconds: 60 }),
        ],
      },
      {
        id: 'go',
        title: '2. Go-live',
        plannedSeconds: null,
        steps: [
          makeStep({ id: 'switch', title: 'Switch the application', phaseId: 'go', approve: 'owner', action: 'sql' }),
          makeStep({ id: 'signoff', title: 'Lead signs off', phaseId: 'go', approve: 'lead', action: 'manual' }),
        ],
      },
    ],
    permissions: { start: null, pause: null, resume: null, abort: null, rollback: null, ...overrides.permissions },
    rollbackScenarios: overrides.rollbackScenarios ?? [],
    ...(overrides.followUps ? { followUps: overrides.followUps } : {}),
  };
}

/** A one-phase plan of the given steps (ids; anything else from makeStep's defaults). */
export function planOfSteps(steps: Array<Partial<PlanStep> & { id: string }>, overrides: Omit<PlanOverrides, 'phases'> = {}): Plan {
  return makePlan({
    ...overrides,
    phases: [{ id: 'phase', title: 'Phase', plannedSeconds: null, steps: steps.map((s) => makeStep({ phaseId: 'phase', ...s })) }],
  });
}

export const actor = (id: string, groups?: string[]): Actor => (groups ? { id, groups } : { id });

export type StartCommand = Extract<Command, { type: 'start' }>;
/** The command of one type. */
export type C<T extends Command['type']> = Extract<Command, { type: T }>;

export function startCommand(overrides: Partial<StartCommand> = {}): StartCommand {
  return {
    type: 'start',
    at: T0,
    actor: actor(USERS.lead),
    runId: RUN_ID,
    channel: 'C0CUTOVER',
    dryRun: false,
    plan: makePlan(),
    runbookFile: 'config/runbooks/demo.yaml',
    runbookText: 'title: Demo cutover\n',
    ...overrides,
  };
}

/** Small builders for the other commands; `opts` overrides any field. */
export const cmd = {
  approve: (stepId: string, by: string, opts: Partial<C<'approve'>> = {}): C<'approve'> => ({
    type: 'approve', at: at(1), actor: actor(by), stepId, attempt: 1, ...opts,
  }),
  hold: (stepId: string, by: string, reason = 'waiting for the DBA', opts: Partial<C<'hold'>> = {}): C<'hold'> => ({
    type: 'hold', at: at(1), actor: actor(by), stepId, reason, ...opts,
  }),
  release: (stepId: string, by: string, opts: Partial<C<'release'>> = {}): C<'release'> => ({
    type: 'release', at: at(1), actor: actor(by), stepId, ...opts,
  }),
  reject: (stepId: string, by: string, reason = 'wrong window', opts: Partial<C<'reject'>> = {}): C<'reject'> => ({
    type: 'reject', at: at(1), actor: actor(by), stepId, reason, ...opts,
  }),
  retry: (stepId: string, by: string, opts: Partial<C<'retry'>> = {}): C<'retry'> => ({
    type: 'retry', at: at(1), actor: actor(by), stepId, attempt: 1, ...opts,
  }),
  skip: (stepId: string, by: string, reason = 'done by hand', opts: Partial<C<'skip'>> = {}): C<'skip'> => ({
    type: 'skip', at: at(1), actor: actor(by), stepId, reason, ...opts,
  }),
  pause: (by: string, reason = 'coffee', opts: Partial<C<'pause'>> = {}): C<'pause'> => ({
    type: 'pause', at: at(1), actor: actor(by), reason, ...opts,
  }),
  resume: (by: string, opts: Partial<C<'resume'>> = {}): C<'resume'> => ({
    type: 'resume', at: at(1), actor: actor(by), ...opts,
  }),
  abort: (by: string, reason = 'source unreachable', opts: Partial<C<'abort'>> = {}): C<'abort'> => ({
    type: 'abort', at: at(1), actor: actor(by), reason, ...opts,
  }),
  started: (stepId: string, opts: Partial<C<'report.started'>> = {}): C<'report.started'> => ({
    type: 'report.started', at: at(2), stepId, attempt: 1, resumed: false, ...opts,
  }),
  progress: (stepId: string, message: string, opts: Partial<C<'report.progress'>> = {}): C<'report.progress'> => ({
    type: 'report.progress', at: at(3), stepId, attempt: 1, message, ...opts,
  }),
  succeeded: (stepId: string, opts: Partial<C<'report.succeeded'>> = {}): C<'report.succeeded'> => ({
    type: 'report.succeeded', at: at(4), stepId, attempt: 1, summary: 'done', ...opts,
  }),
  failed: (stepId: string, opts: Partial<C<'report.failed'>> = {}): C<'report.failed'> => ({
    type: 'report.failed', at: at(4), stepId, attempt: 1, code: 'sql.error', message: 'relation does not exist', ...opts,
  }),
};

export interface Refusal {
  command: Command;
  code: string;
  message: string;
}

export interface DecideAllResult {
  state: RunState | null;
  /** Every accepted event, in order. */
  events: RunEvent[];
  /** Refused commands, in order; a refused command changes nothing. */
  refusals: Refusal[];
}

/** Decides each command in turn, folding the accepted events into the state. */
export function decideAll(state: RunState | null, commands: readonly Command[]): DecideAllResult {
  let current = state;
  const events: RunEvent[] = [];
  const refusals: Refusal[] = [];
  for (const command of commands) {
    const decision = decide(current, command);
    if (!decision.ok) {
      refusals.push({ command, code: decision.code, message: decision.message });
      continue;
    }
    for (const event of decision.events) current = evolve(current, event);
    events.push(...decision.events);
  }
  return { state: current, events, refusals };
}

/**
 * The state after the given commands, failing loudly if any was refused:
 * for setting up a scenario, where a refusal would be a broken fixture.
 */
export function stateAfter(commands: readonly Command[], initial: RunState | null = null): RunState {
  const { state, refusals } = decideAll(initial, commands);
  if (refusals.length > 0) {
    throw new Error(`fixture command refused: ${refusals.map((r) => `${r.command.type}: ${r.code} ${r.message}`).join('; ')}`);
  }
  if (!state) throw new Error('fixture produced no run');
  return state;
}

/** A started run of `plan` (default plan), started by LEAD. */
export const startedRun = (overrides: Partial<StartCommand> = {}): RunState => stateAfter([startCommand(overrides)]);

/** Recursively freezes a value, so a test proves a function does not mutate it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
