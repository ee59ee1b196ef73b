import { formatDuration } from '../../runbook/duration.js';
import type { StepState, StepStatus } from '../../runbook/state.js';

export const STATUS_ICON: Record<StepStatus, string> = {
  pending: '⚪',
  awaiting_approval: '🟡',
  held: '✋',
  rejected: '⛔',
  queued: '⏳',
  running: '🔄',
  succeeded: '✅',
  failed: '❌',
  skipped: '⏭️',
};

export const STATUS_LABEL: Record<StepStatus, string> = {
  pending: 'pending',
  awaiting_approval: 'waiting for approval',
  held: 'on hold',
  rejected: 'rejected',
  queued: 'approved, queued',
  running: 'running',
  succeeded: 'done',
  failed: 'failed',
  skipped: 'skipped',
};

/**
 * The one time convention of messages: a Slack date token, which each reader
 * sees in their own time zone and format ("Today 10:15 PM", "Mar 9 22:15");
 * the fallback (notifications, clients that cannot render it) is UTC, said so.
 */
export const slackTime = (at: number): string =>
  `<!date^${Math.floor(at / 1000)}^{date_short_pretty} {time}|${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC>`;


/** "ran 1m 20s (planned 2m) · waited 40s for approval" */
export function stepTimings(step: StepState, plannedSeconds: number | null, now: number): string {
  const parts: string[] = [];
  if (step.requestedAt !== null && step.status === 'awaiting_approval') parts.push(`waiting ${formatDuration((now - step.requestedAt) / 1000)}`);
  if (step.requestedAt !== null && step.approvedAt !== null) parts.push(`approval took ${formatDuration((step.approvedAt - step.requestedAt) / 1000)}`);
  if (step.startedAt !== null) {
    const end = step.finishedAt ?? now;
    parts.push(`${step.finishedAt === null ? 'running for' : 'ran'} ${formatDuration((end - step.startedAt) / 1000)}`);
  }
  if (plannedSeconds !== null) parts.push(`planned ${formatDuration(plannedSeconds)}`);
  return parts.join(' · ');
}

/** Slack text is limited; cut long strings with a visible marker instead of failing the post. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
