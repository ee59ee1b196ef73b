import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ACTIONS, type ActionSpec } from './action-catalog.js';
import { requiresProblems, restoreFromProblems } from './backups.js';
import { formatCount, RUNBOOK_FILE_MAX_BYTES, RUNBOOK_MAX_STEPS, YAML_MAX_ALIASES } from './input-bounds.js';
import { interpolateTree } from './interpolate.js';
import { planOf, type Plan } from './plan.js';
import { resolveRetry, type RetryPolicy } from './retry-policy.js';
import { placeholderMessage, placeholdersIn, underPlaceholder } from './placeholders.js';
import { rollbackApprovalProblems } from './rollback-authority.js';
import { runbookSchema, type RunbookDoc, type StepDoc } from './schema.js';
import { stepReferenceProblems } from './step-references.js';

/** One problem in a runbook file: where it is and what was expected. */
export interface RunbookProblem {
  file: string;
  path: string;
  message: string;
}

export interface Runbook {
  name: string;
  file: string;
  doc: RunbookDoc;
  plan: Plan;
  /** The actions' params, parsed by their schemas, by step id. */
  params: Record<string, unknown>;
}

export type LoadResult = { ok: true; runbook: Runbook } | { ok: false; problems: RunbookProblem[] };

export interface LoadInput {
  /** Runbook id, usually the file's base name without extension. */
  name: string;
  file: string;
  text: string;
  env: Readonly<Record<string, string | undefined>>;
  actions?: Record<string, ActionSpec<unknown>>;
}

/** Formats a path as `phases[2].steps[0].approve`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Parses, interpolates and validates a runbook. Never throws: problems are
 * returned, whatever the text (an alias bomb, nesting deep enough to exhaust
 * the stack, a file over the size bound).
 */
export function loadRunbook(input: LoadInput): LoadResult {
  try {
    return loadChecked(input);
  } catch (err) {
    // yaml and zod recurse; what they throw on hostile input is a problem of this file, not of the caller.
    const reason = err instanceof RangeError ? 'it is nested too deeply to read' : `it could not be read: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, problems: [{ file: input.file, path: '(top level)', message: reason }] };
  }
}

function loadChecked(input: LoadInput): LoadResult {
  const { file } = input;
  const problem = (path: ReadonlyArray<PropertyKey>, message: string): RunbookProblem => ({
    file,
    path: formatPath(path),
    message,
  });

  // Measured in UTF-16 units first: a string this long is over the byte bound whatever its encoding.
  const bytes = input.text.length > RUNBOOK_FILE_MAX_BYTES ? input.text.length : Buffer.byteLength(input.text, 'utf8');
  if (bytes > RUNBOOK_FILE_MAX_BYTES) {
    return { ok: false, problems: [problem([], `the file is ${formatCount(bytes)} bytes; a runbook may be at most ${formatCount(RUNBOOK_FILE_MAX_BYTES)} (move SQL into files under sql/)`)] };
  }
  // With prettyErrors off, errors carry no linePos; the LineCounter turns their offset into line/column.
  const lineCounter = new LineCounter();
  const yamlDoc = parseDocument(input.text, { prettyErrors: false, uniqueKeys: true, merge: true, lineCounter, logLevel: 'error' });
  if (yamlDoc.errors.length > 0) {
    return {
      ok: false,
      problems: yamlDoc.errors.map((e) => ({
        file,
        path: ((p) => `line ${p.line}, column ${p.col}`)(e.linePos?.[0] ?? lineCounter.linePos(e.pos[0])),
        message: `expected valid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  let raw: unknown;
  try {
    raw = yamlDoc.toJS({ maxAliasCount: YAML_MAX_ALIASES });
  } catch (err) {
    // yaml throws a ReferenceError when expanding the aliases would exceed maxAliasCount (a "billion laughs").
    if (!(err instanceof ReferenceError)) throw err;
    return { ok: false, problems: [problem([], `its YAML aliases expand more than ${YAML_MAX_ALIASES} times, the most a runbook may use (an alias bomb?); use fewer anchors (*name)`)] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, problems: [problem([], 'expected a YAML mapping with title, roles and phases')] };
  }
  const steps = stepCount(raw);
  if (steps > RUNBOOK_MAX_STEPS) {
    return { ok: false, problems: [problem(['phases'], `the runbook has ${formatCount(steps)} steps; at most ${formatCount(RUNBOOK_MAX_STEPS)} are allowed (forward and rollback together)`)] };
  }

  // What `cutover plan` left for a person refuses the runbook, whatever else is right or wrong with it.
  const unfilled = placeholdersIn(withoutExtensionFields(raw)).map((p) => problem(p.path, placeholderMessage(p.hint)));
  const withUnfilled = (found: RunbookProblem[]): LoadResult => ({
    ok: false,
    problems: [...unfilled, ...found.filter((p) => !underPlaceholder(p.path, unfilled.map((u) => u.path)))],
  });

  const interpolated = interpolateTree(raw, input.env);
  const problems: RunbookProblem[] = interpolated.problems.map((p) => problem(p.path, p.message));

  const parsed = runbookSchema.safeParse(withoutExtensionFields(interpolated.value));
  if (!parsed.success) {
    // A value left uninterpolated is already reported; its follow-on format error would only add noise.
    const unset = new Set(problems.map((p) => p.path));
    const issues = parsed.error.issues.flatMap((issue) => issueProblems(issue).map((p) => problem(p.path, p.message)));
    problems.push(...issues.filter((p) => !unset.has(p.path)));
    return withUnfilled(problems);
  }
  const doc = parsed.data;
  const params: Record<string, unknown> = {};
  const retries: Record<string, RetryPolicy | null> = {};
  problems.push(...checkReferences(doc, input.actions ?? ACTIONS, params, retries).map((p) => problem(p.path, p.message)));
  if (problems.length > 0 || unfilled.length > 0) return withUnfilled(problems);
  const plan = planOf(input.name, doc, retries);
  // Checked on the plan (roles and chains resolved), once every reference in it is known to exist.
  const stranded = rollbackApprovalProblems(plan).map((p) => problem(p.path, p.message));
  if (stranded.length > 0) return { ok: false, problems: stranded };
  return { ok: true, runbook: { name: input.name, file, doc, plan, params } };
}

/** Steps of the phases and rollback scenarios, counted before validation so a huge runbook is refused before zod walks it. */
function stepCount(doc: object): number {
  const field = (holder: unknown, key: string): unknown => (holder !== null && typeof holder === 'object' && !Array.isArray(holder) ? Object.getOwnPropertyDescriptor(holder, key)?.value : undefined);
  const stepsOf = (holder: unknown): number => {
    const steps = field(holder, 'steps');
    return Array.isArray(steps) ? steps.length : 0;
  };
  const phases = field(doc, 'phases');
  const rollback = field(doc, 'rollback');
  const forward = Array.isArray(phases) ? phases.reduce((n: number, ph: unknown) => n + stepsOf(ph), 0) : 0;
  const back = rollback !== null && typeof rollback === 'object' && !Array.isArray(rollback) ? Object.values(rollback).reduce((n: number, sc: unknown) => n + stepsOf(sc), 0) : 0;
  return forward + back;
}

/** Top-level `x-…` keys hold YAML anchors shared by steps (as in docker-compose); they are not part of the format. */
function withoutExtensionFields(doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('x-')));
}

/** An unknown field is reported at its own path (e.g. `phases[0].steps[1].aprove`), one problem per field. */
function issueProblems(issue: z.core.$ZodIssue): Array<{ path: PropertyKey[]; message: string }> {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown field (check its spelling against the runbook format in docs/runbooks.md)' }));
  }
  return [{ path: issue.path, message: describeIssue(issue) }];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  // A record key that is no id (a rollback scenario, a role): the key's own problem, not zod's "Invalid key in record".
  if (issue.code === 'invalid_key' && issue.issues[0]) return `"${String(issue.path[issue.path.length - 1])}": ${issue.issues[0].message}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    return issue.message.replace(/^Invalid input: /, '');
  }
  return issue.message;
}

type Path = Array<string | number>;

function checkReferences(
  doc: RunbookDoc,
  actions: Record<string, ActionSpec<unknown>>,
  params: Record<string, unknown>,
  retries: Record<string, RetryPolicy | null>,
): Array<{ path: Path; message: string }> {
  const out: Array<{ path: Path; message: string }> = [];
  const roleIds = Object.keys(doc.roles);
  const knownRole = (role: string, path: Path, what: string): void => {
    if (!doc.roles[role]) out.push({ path, message: `${what} "${role}" is not a declared role (expected one of ${roleIds.join(', ')})` });
  };
  const knownConnection = (name: string, path: Path): void => {
    if (!doc.connections[name]) {
      const names = Object.keys(doc.connections);
      out.push({
        path,
        message: `connection "${name}" is not declared under connections (expected one of ${names.length ? names.join(', ') : 'none declared'})`,
      });
    }
  };
  const seen = new Map<string, string>();
  const checkStep = (step: StepDoc, path: Path): void => {
    const where = formatPath(path);
    const first = seen.get(step.id);
    if (first) out.push({ path: [...path, 'id'], message: `step id "${step.id}" is already used at ${first}; step ids must be unique` });
    else seen.set(step.id, where);
    knownRole(step.approve, [...path, 'approve'], 'approving role');
    step.skippable_by.forEach((r, i) => knownRole(r, [...path, 'skippable_by', i], 'role'));
    const spec = actions[step.action];
    if (!spec) {
      out.push({ path: [...path, 'action'], message: `unknown action "${step.action}" (expected one of ${Object.keys(actions).join(', ')})` });
      return;
    }
    const parsedParams = spec.params.safeParse(step.params ?? (step.action === 'manual' ? undefined : {}));
    if (!parsedParams.success) {
      for (const issue of parsedParams.error.issues) {
        for (const p of issueProblems(issue)) out.push({ path: [...path, 'params', ...(p.path as Path)], message: p.message });
      }
      return;
    }
    params[step.id] = parsedParams.data;
    const retry = resolveRetry(step.retry, step.action, spec.recovery(parsedParams.data));
    if (retry.ok) retries[step.id] = retry.policy;
    else out.push({ path: [...path, 'retry'], message: retry.message });
    spec.connections(parsedParams.data).forEach((c) => knownConnection(c, [...path, 'params', 'connection']));
    if (step.done_when && 'connection' in step.done_when) knownConnection(step.done_when.connection, [...path, 'done_when', 'connection']);
  };

  doc.phases.forEach((phase, i) => phase.steps.forEach((step, j) => checkStep(step, ['phases', i, 'steps', j])));
  for (const [id, scenario] of Object.entries(doc.rollback)) {
    knownRole(scenario.approve, ['rollback', id, 'approve'], 'approving role');
    scenario.steps.forEach((step, j) => checkStep(step, ['rollback', id, 'steps', j]));
  }
  for (const [perm, roles] of Object.entries(doc.permissions)) {
    (roles ?? []).forEach((r, i) => knownRole(r, ['permissions', perm, i], 'role'));
  }
  doc.contacts.forEach((c, i) => knownRole(c.role, ['contacts', i, 'role'], 'role'));
  doc.escalation.next_tier.forEach((r, i) => knownRole(r, ['escalation', 'next_tier', i], 'role'));
  doc.escalation.tiers.forEach((t, i) => t.notify.forEach((r, j) => knownRole(r, ['escalation', 'tiers', i, 'notify', j], 'role')));
  if (doc.escalation.go_no_go) knownRole(doc.escalation.go_no_go, ['escalation', 'go_no_go'], 'role');
  const followUpIds = new Set<string>();
  doc.follow_ups.forEach((f, i) => {
    knownRole(f.role, ['follow_ups', i, 'role'], 'role');
    if (followUpIds.has(f.id)) out.push({ path: ['follow_ups', i, 'id'], message: `follow-up id "${f.id}" is used twice; follow-up ids must be unique` });
    followUpIds.add(f.id);
  });
  out.push(...requiresProblems(doc), ...restoreFromProblems(doc));
  out.push(...stepReferenceProblems(doc, params, actions));
  const phaseIds = new Set<string>();
  doc.phases.forEach((ph, i) => {
    if (phaseIds.has(ph.id)) out.push({ path: ['phases', i, 'id'], message: `phase id "${ph.id}" is used twice; phase ids must be unique` });
    phaseIds.add(ph.id);
  });
  return out;
}
