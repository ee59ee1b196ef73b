import { z } from 'zod';
import type { RunEvent } from './events.js';
import type { EventCodec } from './ports.js';
import type { DatabaseHealth, HealthSample } from './health-sample.js';
import type { Plan } from './plan.js';
import { verdictSchema } from './validation-result.js';
import { CutoverError } from './errors.js';

/**
 * The shape of every RunEvent, checked when a run is read back from its
 * stream: a damaged, unknown or newer event must stop the run with a clear
 * error, never fold into a state nobody recorded. A missing or mistyped field
 * is refused; a field no version ever wrote is dropped. The type checks at the
 * end keep this file and events.ts naming the same keys at every depth, so a
 * field added to an event (or to the plan inside run.started) and forgotten
 * here fails the build instead of being dropped on read.
 */

const num = z.number();
const str = z.string();
const nullableNum = num.nullable();
const record = z.record(z.string(), z.unknown());

const planStepSchema = z.object({
  id: str,
  title: str,
  phaseId: str,
  approve: str,
  action: str,
  manual: z.boolean(),
  plannedSeconds: nullableNum,
  timeoutSeconds: nullableNum,
  confirm: str.nullable(),
  skippableBy: z.array(str),
  description: str.nullable(),
  gate: z.literal('validation').nullable(),
  requires: z.array(str).optional(),
  retry: z.object({ attempts: num, backoffSeconds: num }).nullable().optional(),
  checklist: z.array(str).optional(),
});

const planSchema = z.object({
  runbook: str,
  title: str,
  roles: z.record(
    str,
    z.object({ id: str, title: str, members: z.array(str), usergroups: z.array(str), minApprovals: num, requesterMayApprove: z.boolean() }),
  ),
  phases: z.array(z.object({ id: str, title: str, plannedSeconds: nullableNum, steps: z.array(planStepSchema) })),
  permissions: z.object({
    start: z.array(str).nullable(),
    pause: z.array(str).nullable(),
    resume: z.array(str).nullable(),
    abort: z.array(str).nullable(),
    rollback: z.array(str).nullable(),
  }),
  rollbackScenarios: z.array(
    z.object({ id: str, title: str, approve: str, plannedSeconds: nullableNum.optional(), steps: z.array(planStepSchema).optional() }),
  ),
  window: z.object({ start: nullableNum, end: nullableNum }).optional(),
  timeZone: z.string().optional(),
  followUps: z
    .array(
      z.object({
        id: str,
        title: str,
        description: str.nullable(),
        afterSeconds: num,
        role: str,
        checklist: z.array(str),
        remindEverySeconds: num,
        escalateAfterSeconds: num,
        snoozeSeconds: num,
      }),
    )
    .optional(),
});

const databaseHealthSchema = z.object({
  connection: str,
  kind: z.enum(['postgres', 'mssql']),
  error: str.nullable(),
  sessions: z.object({ total: num, active: num, idleInTransaction: num }).nullable(),
  waiting: z.array(
    z.object({
      session: num,
      ours: z.boolean(),
      waitSeconds: num,
      waitType: str,
      lockWait: z.boolean(),
      blockedBy: z.array(num),
      headBlocker: nullableNum,
      who: str,
      statement: str,
    }),
  ),
  waitingTotal: num,
  heads: z.array(z.object({ session: num, ours: z.boolean(), who: str, state: str, xactSeconds: nullableNum, statement: str, blocking: num })),
  long: z.array(z.object({ session: num, ours: z.boolean(), seconds: num, who: str, statement: str })),
  longTotal: num,
  deadlocks: nullableNum,
  replication: z.array(z.object({ name: str, state: str, replayLagSeconds: nullableNum, replayLagBytes: nullableNum })).nullable(),
  disk: z
    .array(z.object({ path: str, tablespaces: z.array(str), freeBytes: num, totalBytes: num, tablespaceBytes: nullableNum }))
    .nullable(),
  notes: z.array(str),
});

const healthSampleSchema = z.object({
  at: num,
  databases: z.array(databaseHealthSchema),
  findings: z.array(
    z.object({
      kind: z.enum(['blocking', 'lock_wait']),
      connection: str,
      session: num,
      ours: z.boolean(),
      waitSeconds: num,
      thresholdSeconds: num,
      text: str,
    }),
  ),
  complete: z.boolean(),
});

const gateEvidenceSchema = z.object({
  verdict: verdictSchema,
  results: z.array(
    z.object({
      stepId: str,
      attempt: num,
      check: z.enum(['counts', 'aggregates', 'checksums', 'integrity', 'rules', 'totals', 'queries']).nullable(),
      verdict: verdictSchema,
    }),
  ),
  failing: z.array(str),
});

const escalationLevel = z.enum(['reminder', 'escalation', 'overrun', 'page', 'blocked', 'unblocked', 'timeout', 'stalled']);
const followUpLevel = z.enum(['reminder', 'escalation']);

/** Fields every event of a step carries. */
const stepBase = { at: num, stepId: str };
const attemptBase = { ...stepBase, attempt: num };

const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ type: z.literal(type), ...shape });

const eventSchemas = [
  event('run.started', { at: num, runId: str, by: str, channel: str, dryRun: z.boolean(), plan: planSchema, runbookFile: str, runbookText: str }),
  event('step.approval_requested', attemptBase),
  event('step.approved', { ...attemptBase, by: str, evidence: gateEvidenceSchema.optional() }),
  event('step.held', { ...stepBase, by: str, reason: str }),
  event('step.released', { ...stepBase, by: str }),
  event('step.rejected', { ...stepBase, by: str, reason: str }),
  event('step.queued', { ...attemptBase, jobId: str }),
  event('step.started', { ...attemptBase, resumed: z.boolean() }),
  event('step.progress', { ...attemptBase, message: str, data: record.optional() }),
  event('step.health', { ...attemptBase, sample: healthSampleSchema }),
  event('step.succeeded', { ...attemptBase, summary: str, details: record.optional() }),
  event('step.failed', { ...attemptBase, code: str, message: str, details: record.optional() }),
  event('step.retried', { ...attemptBase, by: str }),
  event('step.retrying', { ...attemptBase, try: num, of: num, code: str, message: str, delayMs: num }),
  event('step.skipped', { ...stepBase, by: str, reason: str }),
  event('gate.overridden', { ...attemptBase, by: str, reason: str, verdict: verdictSchema, evidence: gateEvidenceSchema }),
  event('step.approvals_lapsed', { ...attemptBase, reason: str }),
  event('run.paused', { at: num, by: str, reason: str }),
  event('run.resumed', { at: num, by: str }),
  event('run.aborted', { at: num, by: str, reason: str }),
  event('run.completed', { at: num }),
  event('rollback.requested', { at: num, scenario: str, by: str, reason: str }),
  event('rollback.approved', { at: num, scenario: str, by: str }),
  event('rollback.cancelled', { at: num, scenario: str, by: str, reason: str.optional() }),
  event('run.rolled_back', { at: num, scenario: str, reason: str }),
  event('escalation.sent', {
    ...attemptBase,
    level: escalationLevel,
    reason: str,
    to: z.array(str),
    episode: num.optional(),
    round: num.optional(),
  }),
  event('escalation.acknowledged', { ...attemptBase, level: escalationLevel, by: str }),
  event('escalation.resolved', stepBase),
  event('rollback.escalated', { at: num, requestedAt: num, level: escalationLevel, reason: str, to: z.array(str), round: num.optional() }),
  event('rollback.acknowledged', { at: num, requestedAt: num, level: escalationLevel, by: str }),
  event('rollback.resolved', { at: num, requestedAt: num }),
  event('go_no_go.requested', { at: num, role: str, reason: str, to: z.array(str) }),
  event('go_no_go.decided', { at: num, by: str, decision: z.enum(['continue', 'rollback']) }),
  event('follow_up.reminded', { at: num, followUpId: str, level: followUpLevel, reason: str, to: z.array(str) }),
  event('follow_up.snoozed', { at: num, followUpId: str, by: str, until: num }),
  event('follow_up.done', { at: num, followUpId: str, by: str }),
] as const;

/** Every RunEvent, told apart by `type`. */
export const runEventSchema = z.discriminatedUnion('type', eventSchemas);

/** The event types this version knows (an event of any other type is refused, not skipped). */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(eventSchemas.map((s) => s.shape.type.value));

// Both directions: every RunEvent is accepted by the schema, and every parse result is a RunEvent.
type Parsed = z.infer<typeof runEventSchema>;
const _everyEventParses = (e: RunEvent): z.input<typeof runEventSchema> => e;
const _everyParseIsAnEvent = (e: Parsed): RunEvent => e;
const _planParses = (p: Plan): z.input<typeof planSchema> => p;
const _sampleParses = (s: HealthSample): z.input<typeof healthSampleSchema> => s;
const _databaseParses = (d: DatabaseHealth): z.input<typeof databaseHealthSchema> => d;
// …and the same keys at every depth: assignability alone lets an optional field the schema lacks through, and parsing would drop it.
type SameKeys<A, B> = [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never] ? true : false;
type DeepSameKeys<A, B> = [NonNullable<A>] extends [readonly (infer X)[]]
  ? [NonNullable<B>] extends [readonly (infer Y)[]]
    ? DeepSameKeys<X, Y>
    : false
  : [NonNullable<A>] extends [object]
    ? [NonNullable<B>] extends [object]
      ? SameKeys<NonNullable<A>, NonNullable<B>> extends true
        ? false extends { [K in keyof NonNullable<A> & keyof NonNullable<B>]-?: DeepSameKeys<NonNullable<A>[K], NonNullable<B>[K]> }[keyof NonNullable<A> &
            keyof NonNullable<B>]
          ? false
          : true
        : false
      : false
    : true;
type EveryEventSameKeys = { [T in RunEvent['type']]: DeepSameKeys<Extract<RunEvent, { type: T }>, Extract<Parsed, { type: T }>> }[RunEvent['type']];
/** Fails to compile (true is not `boolean`) when some event's schema names other keys than its type. */
type Holds<T extends true> = T;
const _schemaMatchesTypes: Holds<EveryEventSameKeys> = true;
void [_schemaMatchesTypes, _everyEventParses, _everyParseIsAnEvent, _planParses, _sampleParses, _databaseParses];

/**
 * The event format this version writes (`v` in each stored event) and the
 * newest it reads. Events stored before formats were numbered carry no `v`:
 * they are format 1, which this version still reads as written. A writer that
 * changes an event's shape raises the number, so an older reader refuses its
 * events instead of misreading them.
 */
export const EVENT_FORMAT = 1;

/** A stored event this version cannot read; `field` names where (dotted path, `type`, `v`, or `(event)` for the whole). */
export class EventFormatError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventFormatError';
  }
}

/** The stored text of an event: its JSON with the format number first. */
export function encodeRunEvent(event: RunEvent): string {
  return JSON.stringify({ v: EVENT_FORMAT, ...event });
}

/** How both state backends store RunEvents: format-numbered JSON, checked against the schema when read. */
export const runEventCodec: EventCodec<RunEvent> = { encode: (e) => encodeRunEvent(e), decode: (raw) => decodeRunEvent(raw) };

/** Checks one stored event (already JSON-parsed). Throws EventFormatError naming the field; never returns a half-checked event. */
export function decodeRunEvent(raw: unknown): RunEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EventFormatError('(event)', 'not a JSON object');
  const { v, ...rest } = raw as Record<string, unknown>;
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new EventFormatError('v', `event format ${JSON.stringify(v)} is not a format number`);
  }
  if (typeof v === 'number' && v > EVENT_FORMAT) {
    throw new EventFormatError('v', `written in event format ${v} by a newer cutover; this one reads formats up to ${EVENT_FORMAT} (upgrade every web and worker)`);
  }
  const type = rest['type'];
  if (typeof type !== 'string') throw new EventFormatError('type', 'missing or not a string');
  if (!KNOWN_EVENT_TYPES.has(type)) throw new EventFormatError('type', `unknown event type ${JSON.stringify(type)} (written by a newer cutover?)`);
  const parsed = runEventSchema.safeParse(rest);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new EventFormatError(issue ? fieldPath(issue.path) || '(event)' : '(event)', `${type}: ${issue?.message ?? 'invalid'}`);
}

/** ['plan', 'phases', 0, 'steps'] → "plan.phases[0].steps". */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/**
 * The error a backend throws for an event it cannot read: the run stops there
 * (skipping would fold a history other than the one recorded). Names the run,
 * the event's position and stream entry, and the field, for /migrate status and the log.
 */
export function unreadableEvent(runId: string, position: number, entry: string, cause: unknown): CutoverError {
  const field = cause instanceof EventFormatError ? cause.field : '(event)';
  const problem = cause instanceof Error ? cause.message : String(cause);
  return new CutoverError(
    'run.corrupt_event',
    `Run ${runId} is stopped: event ${position} of its history (stream entry ${entry}) cannot be read — field \`${field}\`: ${problem}. Nothing more happens in this run until that entry is repaired.`,
    { cause, detail: `run ${runId}, entry ${entry}, field ${field}` },
  );
}

/** True for the error a backend throws when a run's history cannot be read (see unreadableEvent). */
export const isUnreadableRun = (err: unknown): err is CutoverError => err instanceof CutoverError && err.code === 'run.corrupt_event';
