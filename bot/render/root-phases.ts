import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../runbook/duration.js';
import { openEpisode } from '../../runbook/health-alert.js';
import type { PlanPhase, PlanStep } from '../../runbook/plan.js';
import type { RunState, StepStatus } from '../../runbook/state.js';
import { clip, slackTime, STATUS_ICON, STATUS_LABEL, stepTimings } from './format.js';

/**
 * Slack refuses a message whose blocks serialise to more than about 13,000
 * characters (`msg_blocks_too_long`) or number more than 50. The root message
 * keeps under this budget whatever the runbook's size: a 3,000-step runbook's
 * root was refused outright, so its run had no messages at all (issue 14).
 */
export const ROOT_BLOCKS_BUDGET = 12_000;
const SECTION_CHARS = 3000;

const DONE: ReadonlySet<StepStatus> = new Set(['succeeded', 'skipped']);
/** Steps someone may have to look at: never folded into a count. */
const NOTEWORTHY: ReadonlySet<StepStatus> = new Set(['awaiting_approval', 'held', 'rejected', 'queued', 'running', 'failed']);

const statusOf = (state: RunState, ps: PlanStep): StepStatus => state.steps[ps.id]?.status ?? 'pending';

function stepLine(state: RunState, ps: PlanStep, now: number): string {
  const step = state.steps[ps.id];
  if (!step) return `• ${ps.title}`;
  const timing = stepTimings(step, ps.plannedSeconds, now);
  const blocked = step.status === 'running' ? openEpisode(step.health) : undefined;
  const waiting = blocked ? ` · ⛔ held up by a database wait since ${slackTime(blocked.since)}` : '';
  return `${STATUS_ICON[step.status]} ${ps.title} — _${STATUS_LABEL[step.status]}_${timing ? ` · ${timing}` : ''}${waiting}`;
}

function heading(phase: PlanPhase): string {
  const planned = phase.plannedSeconds !== null ? ` (planned ${formatDuration(phase.plannedSeconds)})` : '';
  return `*${phase.title}*${planned}`;
}

/** Consecutive done (or not yet started) steps as one line; the steps that need an eye keep theirs. */
function foldedLines(state: RunState, phase: PlanPhase, now: number): string[] {
  const lines: string[] = [];
  const stretch: { kind: 'done' | 'pending' | null; count: number } = { kind: null, count: 0 };
  const flush = (): void => {
    if (stretch.kind) lines.push(stretch.kind === 'done' ? `✅ ${stretch.count} steps done` : `⚪ ${stretch.count} steps not started`);
    stretch.kind = null;
    stretch.count = 0;
  };
  for (const ps of phase.steps) {
    const status = statusOf(state, ps);
    const kind = DONE.has(status) ? 'done' : status === 'pending' ? 'pending' : null;
    if (kind !== stretch.kind) flush();
    if (kind === null) lines.push(stepLine(state, ps, now));
    else {
      stretch.kind = kind;
      stretch.count += 1;
    }
  }
  flush();
  return lines;
}

/** A phase's step lines, or null when they do not fit one section; a phase that needs an eye then folds its quiet stretches into counts. */
function phaseDetail(state: RunState, phase: PlanPhase, now: number): string | null {
  // Stops at the first line past the section: a 3,000-step run's root renders about as many lines as it shows.
  let full = heading(phase);
  for (const ps of phase.steps) {
    full += `\n${stepLine(state, ps, now)}`;
    if (full.length > SECTION_CHARS) break;
  }
  if (full.length <= SECTION_CHARS) return full;
  if (!needsEye(state, phase)) return null;
  return clip(`${heading(phase)}\n${foldedLines(state, phase, now).join('\n')}`, SECTION_CHARS);
}

/** A phase in one line: how many of its steps are done, and any that need an eye. */
function phaseSummary(state: RunState, phase: PlanPhase): string {
  const counts = new Map<StepStatus, number>();
  for (const ps of phase.steps) counts.set(statusOf(state, ps), (counts.get(statusOf(state, ps)) ?? 0) + 1);
  const done = phase.steps.filter((ps) => DONE.has(statusOf(state, ps))).length;
  const icon = done === phase.steps.length ? '✅' : done === 0 && (counts.get('pending') ?? 0) === phase.steps.length ? '⚪' : '🔄';
  const noteworthy = [...counts].filter(([s]) => NOTEWORTHY.has(s)).map(([s, n]) => `${n} ${STATUS_LABEL[s]}`);
  return `${icon} ${heading(phase)} — ${done}/${phase.steps.length} done${noteworthy.length ? ` · ${noteworthy.join(', ')}` : ''}`;
}

const needsEye = (state: RunState, phase: PlanPhase): boolean => phase.steps.some((ps) => NOTEWORTHY.has(statusOf(state, ps)));

/**
 * The phases as blocks within `budget` serialised characters: every phase in
 * detail if that fits, else quiet phases (all done, or not started) become a
 * line each, then the busiest, until it fits. Summary lines of neighbouring
 * phases share a section, so the 50-block limit holds too. Linear in the plan.
 */
export function phaseBlocks(state: RunState, now: number, budget: number, maxBlocks: number): KnownBlock[] {
  const phases = state.plan.phases;
  const detail = phases.map((ph) => phaseDetail(state, ph, now));
  const summaries = phases.map((ph) => phaseSummary(state, ph));
  const summarised = detail.map((text) => text === null);
  // A section block costs its text's JSON plus about 60 characters of wrapping; a summary line its JSON plus a newline.
  const cost = (text: string | null | undefined): number => JSON.stringify(text ?? '').length;
  let estimate = detail.reduce((sum, text, i) => sum + (text === null ? cost(summaries[i]) + 2 : cost(text) + 60), 0);
  let detailed = detail.filter((text) => text !== null).length;
  const order = phases
    .map((ph, i) => ({ i, eye: needsEye(state, ph), length: detail[i]?.length ?? 0 }))
    .sort((a, b) => Number(a.eye) - Number(b.eye) || b.length - a.length);
  for (const { i } of order) {
    if (summarised[i]) continue;
    if (estimate <= budget && detailed * 2 + 1 <= maxBlocks) break;
    summarised[i] = true;
    detailed -= 1;
    estimate += cost(summaries[i]) + 2 - cost(detail[i]) - 60;
  }
  const blocks = assemble(detail, summarised, summaries);
  if (JSON.stringify(blocks).length <= budget && blocks.length <= maxBlocks) return blocks;
  // Hundreds of phases: even their summary lines do not fit; say where the rest is.
  const done = state.order.filter((id) => DONE.has(state.steps[id]?.status ?? 'pending')).length;
  return [{ type: 'section', text: { type: 'mrkdwn', text: `${phases.length} phases, ${done}/${state.order.length} steps done: see \`/migrate status\` for each.` } }];
}

function assemble(detail: Array<string | null>, summarised: boolean[], summaries: string[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  let group = '';
  const flush = (): void => {
    if (group) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: group } });
    group = '';
  };
  detail.forEach((text, i) => {
    if (!summarised[i] && text !== null) {
      flush();
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
      return;
    }
    const line = clip(summaries[i] ?? '', SECTION_CHARS);
    if (group.length + line.length + 1 > SECTION_CHARS) flush();
    group = group ? `${group}\n${line}` : line;
  });
  flush();
  return blocks;
}
