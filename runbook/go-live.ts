import type { RunState } from './state.js';

/**
 * The go-live time recorded by this run's switch step, if it went live: a
 * switch whose smoke checks failed has still switched (its failure says so).
 */
export function goLiveOf(state: RunState): { goLiveAt?: string } {
  for (const ps of state.plan.phases.flatMap((p) => p.steps)) {
    const step = state.steps[ps.id];
    if (ps.action !== 'switch' || !step) continue;
    const details = step.status === 'succeeded' ? step.result?.details : step.status === 'failed' ? step.error?.details : undefined;
    const at = details?.['goLiveAt'];
    if (typeof at === 'string' && (step.status === 'succeeded' || details?.['switched'] === true)) return { goLiveAt: at };
  }
  return {};
}
