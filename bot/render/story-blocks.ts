import { formatDuration } from '../../runbook/duration.js';
import { findPlanStep } from '../../runbook/plan.js';
import type { RunState, StoryEntry } from '../../runbook/state.js';
import type { Rendered } from './rendered.js';
import { clip, slackTime } from './format.js';

/** A person by mention; the bot's own timers (an approval timeout) by name. */
const who = (by: string): string => (/^[UW][A-Z0-9]+$/.test(by) ? `<@${by}>` : `_${by}_ (automatically)`);

const scenarioTitle = (state: RunState, id: string): string => state.plan.rollbackScenarios.find((s) => s.id === id)?.title ?? id;

/** One line of the run's story, as its own message in the run's thread: who, when, why, and what it means now. */
export function renderStoryEntry(state: RunState, entry: StoryEntry): Rendered {
  const when = slackTime(entry.at);
  let text: string;
  switch (entry.kind) {
    case 'paused':
      text = `⏸️ *Run paused* by ${who(entry.by)} at ${when}: ${entry.reason}. Nothing new is approved until someone resumes it (\`/migrate resume\`); a step already running goes on.`;
      break;
    case 'resumed':
      text = `▶️ *Run resumed* by ${who(entry.by)} at ${when}: waiting steps can be approved again.`;
      break;
    case 'aborted':
      text = `🛑 *Run aborted* by ${who(entry.by)} at ${when}: ${entry.reason}. No step runs after this; nothing was undone.`;
      break;
    case 'rollback.approved':
      text = `↩️ *Rollback approved* — ${scenarioTitle(state, entry.scenario)} (\`${entry.scenario}\`) by ${who(entry.by)} at ${when}. Its steps follow in this thread, each approved by its role.`;
      break;
    case 'rollback.cancelled':
      text = `↩️ *Rollback request cancelled* — ${scenarioTitle(state, entry.scenario)} (\`${entry.scenario}\`, requested by <@${entry.requestedBy}>) by ${who(entry.by)} at ${when}${entry.reason ? `: ${entry.reason}` : ''}. The forward run stays paused until someone resumes it.`;
      break;
    case 'acknowledged': {
      const what = entry.stepId ? `the ${entry.level} for "${findPlanStep(state.plan, entry.stepId)?.title ?? entry.stepId}"` : `the rollback's ${entry.level}`;
      text = `👀 *Acknowledged* — ${what} by ${who(entry.by)} at ${when}: it stops repeating.`;
      break;
    }
    case 'retrying':
      text = retryingText(state, entry, when);
      break;
  }
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } }] };
}

/** Honest about the count: which try failed, which comes next, of how many, and that nobody needs to act. */
function retryingText(state: RunState, entry: Extract<StoryEntry, { kind: 'retrying' }>, when: string): string {
  const title = findPlanStep(state.plan, entry.stepId)?.title ?? entry.stepId;
  const attempt = entry.attempt > 1 ? ` (attempt ${entry.attempt})` : '';
  const wait = formatDuration(Math.round(entry.delayMs / 1000));
  return `🔁 *Retrying automatically* — "${title}"${attempt}: try ${entry.try} of ${entry.of} met a transient error at ${when} (\`${entry.code}\`: ${clip(entry.message, 600)}). Try ${entry.try + 1} of ${entry.of} starts in ${wait}; nothing to do unless it fails again.`;
}

/** A cancelled request's own message, its buttons gone. */
export function renderCancelledRequest(state: RunState, entry: Extract<StoryEntry, { kind: 'rollback.cancelled' }>): Rendered {
  const text = `↩️ Rollback request (${scenarioTitle(state, entry.scenario)}, \`${entry.scenario}\`) by <@${entry.requestedBy}> — cancelled by ${who(entry.by)} at ${slackTime(entry.at)}${entry.reason ? `: ${entry.reason}` : ''}. The forward run stays paused until someone resumes it.`;
  return { text: clip(text, 3000), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, 3000) } }] };
}
