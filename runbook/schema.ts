import { z } from 'zod';
import { doneWhenSchema } from './action-catalog.js';
import { durationSchema } from './duration.js';
import { healthSchema } from './health-policy.js';
import { ID_MAX_CHARS } from './input-bounds.js';
import { retrySchema } from './retry-policy.js';
import { isTimeZone } from './time-zone.js';

/** The runbook file format. Cross-references (roles, actions, connections) are checked in load.ts. */

const id = z
  .string()
  .max(ID_MAX_CHARS, `expected an id of at most ${ID_MAX_CHARS} characters`)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected an id of lower-case letters, digits, "-" or "_"');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id such as U024BE7LH');
const slackGroupId = z.string().regex(/^S[A-Z0-9]+$/, 'expected a Slack user-group id such as S0614TZR7');

export const connectionSchema = z
  .object({
    kind: z.enum(['postgres', 'mssql']),
    url: z.string().min(1, 'expected a connection URL (use ${VAR} so the secret stays in the environment)'),
  })
  .strict();

export const roleSchema = z
  .object({
    title: z.string().min(1),
    members: z.array(slackUserId).default([]),
    usergroups: z.array(slackGroupId).default([]),
    min_approvals: z.number().int().min(1).default(1),
    /** Separation of duties: by default the person who started the run may not approve for this role. */
    requester_may_approve: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.members.length + r.usergroups.length > 0, {
    message: 'expected at least one member or usergroup',
  })
  .refine((r) => r.usergroups.length > 0 || r.members.length >= r.min_approvals, {
    message: 'min_approvals is larger than the number of members',
    path: ['min_approvals'],
  });

export const contactSchema = z
  .object({
    role: z.string(),
    name: z.string().min(1),
    slack: slackUserId.optional(),
    phone: z.string().optional(),
    email: z.string().email('expected an e-mail address').optional(),
  })
  .strict();

const requirement = z.string().regex(/^backup\.[a-z0-9][a-z0-9_-]*$/, 'expected "backup.<id of a backup step>", e.g. backup.pg-before-switch');

export const stepSchema = z
  .object({
    id,
    title: z.string().min(1),
    description: z.string().optional(),
    approve: z.string({ error: 'expected the id of the role that approves this step' }),
    action: z.string({ error: 'expected an action id such as sql, shell, http or manual' }),
    params: z.unknown().optional(),
    planned: durationSchema.optional(),
    timeout: durationSchema.optional(),
    confirm: z.string().max(300, 'expected at most 300 characters (Slack confirm dialog limit)').optional(),
    done_when: doneWhenSchema.optional(),
    /** Automatic retry of transient errors (runbook/retry-policy.ts); absent: the default for the action's crash recovery. */
    retry: retrySchema.optional(),
    skippable_by: z.array(z.string()).default([]),
    /** A go/no-go gate: approval needs a green validation verdict (or an override by the rollback authority). */
    gate: z.literal('validation', { error: 'expected "validation" (the only gate there is)' }).optional(),
    /** Backups that must exist, verified, before this step may be approved: `backup.<step id>` (issue 5). */
    requires: z
      .union([requirement, z.array(requirement)])
      .transform((r) => (Array.isArray(r) ? r : [r]))
      .default([]),
  })
  .strict();

export const phaseSchema = z
  .object({
    id,
    title: z.string().min(1),
    planned: durationSchema.optional(),
    steps: z.array(stepSchema).min(1, 'expected at least one step'),
  })
  .strict();

// An unset `${VAR:-}` interpolates to "", which means "no window" rather than a malformed time.
const windowInstant = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z.iso
    .datetime({ offset: true, error: 'expected an ISO date-time with a UTC offset, e.g. "2024-03-09T22:00:00+01:00" or "2024-03-09T21:00:00Z"' })
    .optional(),
);

/** The maintenance window: the forecast warns when go-live plus rollback would not fit before `end`. */
export const windowSchema = z
  .object({ start: windowInstant, end: windowInstant })
  .strict()
  .refine((w) => !w.start || !w.end || Date.parse(w.end) > Date.parse(w.start), { message: 'window end must be after its start', path: ['end'] });

export const rollbackScenarioSchema = z
  .object({
    title: z.string().min(1),
    approve: z.string({ error: 'expected the id of the role that authorises this rollback' }),
    planned: durationSchema.optional(),
    steps: z.array(stepSchema).default([]),
  })
  .strict();

const roleList = z.array(z.string()).optional();
const slackChannelId = z.string().regex(/^[CG][A-Z0-9]+$/, 'expected a Slack channel id such as C024BE91L');

/**
 * Who is told when a step waits or runs too long. Defaults follow seed 000's
 * night: a reminder after 10 minutes, the next tier after 20.
 */
export const escalationSchema = z
  .object({
    remind_after: durationSchema.default(600),
    escalate_after: durationSchema.default(1200),
    /** Roles told on escalation besides the waiting role's contacts, e.g. [lead]. */
    next_tier: z.array(z.string()).default([]),
    /** A running step alerts once it has run planned × running_factor. */
    running_factor: z.number().min(1, 'expected a factor of at least 1').default(1.5),
    incident_channel: slackChannelId.optional(),
    /** How often this runbook's runs are checked (bounded below by the process's sweep interval). */
    sweep: durationSchema.default(30),
    /** The role asked go/no-go when the window is at risk; defaults to the first next_tier role. */
    go_no_go: z.string().optional(),
    /** An escalation, page, timeout or stalled rollback nobody acknowledged is sent again this often (0s: once). */
    repeat_every: durationSchema.default(600),
    /** Who else is told, once an alert has gone this long unacknowledged (after its first send), tier by tier. */
    tiers: z.array(z.object({ after: durationSchema, notify: z.array(z.string()).min(1, 'expected at least one role to notify') }).strict()).default([]),
    /** An approval waiting this long has timed out (unset: never). */
    approval_timeout: durationSchema.optional(),
    /** What a forward step's timed-out approval does; a rollback's approval always escalates. */
    on_timeout: z.enum(['escalate', 'hold', 'abort'], { error: 'expected escalate, hold or abort' }).default('escalate'),
    /** Paging beyond Slack for what repeats until acknowledged; keys and secrets come from the environment (docs/running.md). */
    page: z.array(z.enum(['pagerduty', 'webhook'], { error: 'expected pagerduty or webhook' })).default([]),
  })
  .strict()
  .refine((e) => e.escalate_after > e.remind_after, { message: 'escalate_after must be longer than remind_after', path: ['escalate_after'] })
  .refine((e) => e.approval_timeout === undefined || e.approval_timeout >= e.escalate_after, {
    message: 'approval_timeout must not come before escalate_after',
    path: ['approval_timeout'],
  })
  .prefault({});

const positiveDuration = (what: string) =>
  durationSchema.refine((s) => s > 0, { message: `expected ${what} longer than 0s` });

/**
 * A duty after go-live (seed 000's Day-1 / Week-1 / Month-1 tasks): due `after`
 * the go-live (the switch step's recorded time, else the run's completion),
 * reminded to `role` every `remind_every` until one of its members presses
 * Done, and escalated to the role's contacts and the next tier once it has
 * waited `escalate_after` unanswered.
 */
export const followUpSchema = z
  .object({
    id,
    title: z.string().min(1),
    description: z.string().optional(),
    after: durationSchema,
    role: z.string({ error: 'expected the id of the role this duty is for' }),
    checklist: z.array(z.string().min(1)).default([]),
    remind_every: positiveDuration('a reminder interval').default(86_400),
    escalate_after: positiveDuration('an escalation delay').default(2 * 86_400),
    /** What the Snooze button postpones by (the menu next to it offers other periods). */
    snooze: positiveDuration('a snooze period').default(86_400),
  })
  .strict();

export const runbookSchema = z
  .object({
    title: z.string().min(1),
    description: z.string().optional(),
    connections: z.record(id, connectionSchema).default({}),
    roles: z.record(id, roleSchema).refine((r) => Object.keys(r).length > 0, 'expected at least one role'),
    /** Which roles may start/pause/resume/abort; absent means any member of any role. */
    permissions: z
      .object({ start: roleList, pause: roleList, resume: roleList, abort: roleList, rollback: roleList })
      .strict()
      .default({}),
    contacts: z.array(contactSchema).default([]),
    window: windowSchema.optional(),
    /** The zone the report and the timeline PNG are written in (messages use Slack date tokens, each reader's own zone). */
    timezone: z.string().refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin or UTC' }).default('UTC'),
    escalation: escalationSchema,
    /** Sampling of the databases while ETL, validation, backup and restore steps run (runbook/health-policy.ts). */
    health: healthSchema,
    phases: z.array(phaseSchema).min(1, 'expected at least one phase'),
    // Scenario names are typed in `/migrate rollback <scenario>`: ids, like every other name a command takes.
    rollback: z.record(id, rollbackScenarioSchema).default({}),
    follow_ups: z.array(followUpSchema).default([]),
  })
  .strict();

export type RunbookDoc = z.infer<typeof runbookSchema>;
export type StepDoc = z.infer<typeof stepSchema>;
export type EscalationDoc = z.infer<typeof escalationSchema>;
