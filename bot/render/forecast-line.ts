import { formatDuration } from '../../runbook/duration.js';
import { forecastRun, type StepHistory } from '../../runbook/forecast.js';
import { rollbackOpen } from '../../runbook/rollback.js';
import type { RunState } from '../../runbook/state.js';
import { slackTime } from './format.js';

const clock = slackTime;

export function driftText(factor: number, steps: number): string {
  if (steps === 0) return 'drift not measured yet';
  const pct = Math.round((factor - 1) * 100);
  return `drift ${pct >= 0 ? '+' : '−'}${Math.abs(pct)} % over ${steps} step${steps === 1 ? '' : 's'}`;
}

/**
 * "⏱ Go-live forecast 03:40 (window ends 04:00, rollback needs 45m → decide by 03:15) · drift +12 % over 3 steps",
 * or null for a finished run and during a rollback (there is no go-live to forecast then).
 * `history`: earlier runs' step durations (rehearsal-aware forecast).
 */
export function forecastLine(state: RunState, now: number, history: StepHistory = {}): string | null {
  if (state.status === 'completed' || state.status === 'aborted' || state.status === 'rolled_back') return null;
  if (rollbackOpen(state)) return null;
  const f = forecastRun(state, now, history);
  const known = remainingStepCount(state) - f.unknownSteps;
  if (known === 0 || f.goLiveAt === null) return '⏱ Go-live forecast unavailable: no step has a planned duration or an earlier run to go by.';
  const windowPart: string[] = [];
  if (f.windowEnd === null) windowPart.push('no window set');
  else {
    windowPart.push(`window ends ${clock(f.windowEnd)}`);
    if (f.rollbackSeconds !== null && f.decideBy !== null) windowPart.push(`rollback needs ${formatDuration(f.rollbackSeconds)} → decide by ${clock(f.decideBy)}`);
  }
  const parts = [`⏱ Go-live forecast ${clock(f.goLiveAt)}${windowPart.length ? ` (${windowPart.join(', ')})` : ''}`, driftText(f.driftFactor, f.driftBasis.steps)];
  if (f.fromHistory > 0) parts.push(`${f.fromHistory} step${f.fromHistory === 1 ? '' : 's'} timed from earlier runs`);
  if (f.unknownSteps > 0) parts.push(`${f.unknownSteps} step${f.unknownSteps === 1 ? '' : 's'} without a planned duration`);
  let line = parts.join(' · ');
  if (f.mustDecide) {
    line += f.breach
      ? '\n⚠️ The forecast go-live is after the window end: decide go/no-go now.'
      : '\n⚠️ Finishing and then rolling back would no longer fit in the window: decide go/no-go now.';
  }
  return line;
}

const remainingStepCount = (state: RunState): number => state.order.filter((id) => !['succeeded', 'skipped'].includes(state.steps[id]?.status ?? '')).length;
