import { formatDuration } from './duration.js';
import type { StepHistory } from './forecast.js';
import { allSteps } from './plan.js';
import { isBadVerdict, stepOutcome } from './report/details.js';
import type { RunState, StepStatus } from './state.js';
import { runTiming, phaseTimings, stepTimings } from './timing.js';

/** One run's side of a step comparison. */
export interface SideStep {
  status: StepStatus;
  actualSeconds: number | null;
  waitSeconds: number | null;
  executionSeconds: number | null;
  rows: number | null;
  verdict: string | null;
}

export interface StepComparison {
  stepId: string;
  title: string;
  current: SideStep | null;
  baseline: SideStep | null;
  /** Execution time change in percent (current vs baseline); null when either has none. */
  executionChangePct: number | null;
  /** Sentences for what got worse; empty when nothing did. */
  regressions: string[];
}

export interface RunSide {
  runId: string;
  label: string;
  status: RunState['status'];
  startedAt: number;
  actualSeconds: number;
  plannedSeconds: number | null;
}

export interface Comparison {
  current: RunSide;
  baseline: RunSide;
  steps: StepComparison[];
  /** Every step's regressions, in plan order. */
  regressions: string[];
}

export interface CompareOptions {
  now: number;
  currentLabel?: string;
  baselineLabel?: string;
  /** Slower by more than this fraction is a regression (0.2 = 20 %). */
  threshold?: number;
  /** Differences below this many seconds are noise, whatever the percentage. */
  minSeconds?: number;
}

function side(state: RunState, now: number, label: string): { run: RunSide; steps: Map<string, SideStep> } {
  const steps = stepTimings(state, now);
  const run = runTiming(state, phaseTimings(state, steps), steps, now);
  const bySide = new Map<string, SideStep>();
  for (const t of steps) {
    if (t.requestedAt === null) continue;
    const s = state.steps[t.stepId];
    const outcome = stepOutcome(s?.result?.details ?? s?.error?.details);
    bySide.set(t.stepId, { status: t.status, actualSeconds: t.actualSeconds, waitSeconds: t.waitSeconds, executionSeconds: t.executionSeconds, rows: outcome.rows, verdict: outcome.verdict });
  }
  return {
    run: { runId: state.runId, label, status: state.status, startedAt: state.startedAt, actualSeconds: run.actualSeconds, plannedSeconds: run.plannedSeconds },
    steps: bySide,
  };
}

const pct = (now: number, before: number): number => Math.round(((now - before) / before) * 100);

/**
 * Two runs of a runbook side by side, step by step. Execution time is what is
 * compared for speed (approval waits are people, not the system), per table
 * too when an ETL step reports table timings. Pure.
 */
export function compareRuns(current: RunState, baseline: RunState, opts: CompareOptions): Comparison {
  const threshold = opts.threshold ?? 0.2;
  const minSeconds = opts.minSeconds ?? 1;
  const a = side(current, opts.now, opts.currentLabel ?? current.runId);
  const b = side(baseline, opts.now, opts.baselineLabel ?? baseline.runId);
  const than = `than ${b.run.label}`;
  const titles = new Map([...allSteps(baseline.plan), ...allSteps(current.plan)].map((s) => [s.id, s.title]));
  const ids = [...new Set([...allSteps(current.plan).map((s) => s.id), ...allSteps(baseline.plan).map((s) => s.id)])];
  const slower = (now: number | null, before: number | null): boolean =>
    now !== null && before !== null && before > 0 && now - before >= minSeconds && now > before * (1 + threshold);

  const steps = ids.map((stepId): StepComparison => {
    const cur = a.steps.get(stepId) ?? null;
    const base = b.steps.get(stepId) ?? null;
    const title = titles.get(stepId) ?? stepId;
    const regressions: string[] = [];
    const ce = cur?.executionSeconds ?? null;
    const be = base?.executionSeconds ?? null;
    if (slower(ce, be) && ce !== null && be !== null) {
      regressions.push(`${stepId} ${pct(ce, be)} % slower ${than} (${formatDuration(ce)} vs ${formatDuration(be)})`);
    }
    regressions.push(...tableRegressions(current, baseline, stepId, slower, than));
    if (cur?.rows != null && base?.rows != null && cur.rows < base.rows) regressions.push(`${stepId} copied ${cur.rows} rows, ${base.rows - cur.rows} fewer ${than}`);
    if (cur && base && isBadVerdict(cur.verdict) && !isBadVerdict(base.verdict)) regressions.push(`${stepId} verdict ${cur.verdict} (was ${base.verdict ?? 'none'} in ${b.run.label})`);
    if (cur?.status === 'failed' && base?.status === 'succeeded') regressions.push(`${stepId} failed; it succeeded in ${b.run.label}`);
    return { stepId, title, current: cur, baseline: base, executionChangePct: ce !== null && be !== null && be > 0 ? pct(ce, be) : null, regressions };
  });
  return { current: a.run, baseline: b.run, steps, regressions: steps.flatMap((s) => s.regressions) };
}

/** Per-table load time of an ETL step ("etl.copy Antrag 40 % slower than rehearsal 2"). */
function tableRegressions(current: RunState, baseline: RunState, stepId: string, slower: (a: number | null, b: number | null) => boolean, than: string): string[] {
  const tablesOf = (s: RunState) => stepOutcome(s.steps[stepId]?.result?.details).tables;
  const before = new Map(tablesOf(baseline).map((t) => [t.table, t]));
  return tablesOf(current).flatMap((t) => {
    const b = before.get(t.table);
    if (!b || !slower(t.seconds, b.seconds) || t.seconds === null || b.seconds === null) return [];
    return [`${stepId} ${t.table} ${pct(t.seconds, b.seconds)} % slower ${than} (${formatDuration(t.seconds)} vs ${formatDuration(b.seconds)})`];
  });
}

/**
 * What a run's steps took (approval request → finish, the forecast's unit), for
 * the forecast of later runs: each step from the most recent run, first in
 * `runs`, in which it succeeded. Dry runs are left out: their work was rolled back.
 */
export function stepHistoryOf(runs: readonly RunState[]): StepHistory {
  const history: Record<string, number> = {};
  for (const run of runs) {
    if (run.dryRun) continue;
    for (const step of Object.values(run.steps)) {
      if (step.status !== 'succeeded' || step.requestedAt === null || step.finishedAt === null || history[step.id] !== undefined) continue;
      history[step.id] = (step.finishedAt - step.requestedAt) / 1000;
    }
  }
  return history;
}
