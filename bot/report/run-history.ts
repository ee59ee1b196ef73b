import { stepHistoryOf } from '../../runbook/compare.js';
import type { StepHistory } from '../../runbook/forecast.js';
import type { RunQueries } from '../../runbook/run-service.js';
import { isFinished, type RunState } from '../../runbook/state.js';

/** How far back runs are looked for; older rehearsals say little about tonight. */
const RECENT = 200;
const KEEP_PER_RUNBOOK = 10;
/** Finished runs kept folded across refreshes, all runbooks together (a 3,000-step run folds to a few MB). */
const MEMO_RUNS = 50;

/**
 * Earlier finished runs of each runbook, for the rehearsal comparison and the
 * rehearsal-aware forecast. Cached per runbook because the root message is
 * re-rendered every few seconds; the cache is dropped when a run finishes here
 * and expires after `ttlMs` for runs finished by another web process.
 */
export class RunHistory {
  private readonly cache = new Map<string, { at: number; runs: Promise<RunState[]> }>();
  /**
   * What this class serves (step durations, the rehearsal comparison) no
   * longer changes once a run has finished (follow-ups appended later touch
   * neither), so a refresh after the TTL lists the recent runs but reads only
   * those it has not folded yet. Re-reading ten big rehearsals every minute on
   * web's loop made garbage-collection pauses of the size of the slowest
   * /healthz answers in bench:web (issue 14). Oldest dropped first.
   */
  private readonly folded = new Map<string, RunState>();

  constructor(
    private readonly deps: { runs: Pick<RunQueries, 'recentRunIds' | 'history'>; now: () => number; ttlMs?: number },
  ) {}

  /** Finished runs of the runbook, newest first (at most KEEP_PER_RUNBOOK). */
  finishedRuns(runbook: string): Promise<RunState[]> {
    const hit = this.cache.get(runbook);
    if (hit && this.deps.now() - hit.at < (this.deps.ttlMs ?? 60_000)) return hit.runs;
    const runs = this.loadFinished(runbook);
    this.cache.set(runbook, { at: this.deps.now(), runs });
    runs.catch(() => this.cache.delete(runbook));
    return runs;
  }

  invalidate(runbook: string): void {
    this.cache.delete(runbook);
  }

  /** The most recent finished run of the same runbook that started before `state`; dry runs only when `state` is one. */
  async previousRun(state: RunState): Promise<RunState | null> {
    const runs = await this.finishedRuns(state.plan.runbook);
    return runs.find((r) => r.runId !== state.runId && r.startedAt <= state.startedAt && (state.dryRun || !r.dryRun)) ?? null;
  }

  /** Step durations of earlier real runs, for the forecast of `state`. */
  async stepHistory(state: RunState): Promise<StepHistory> {
    const runs = await this.finishedRuns(state.plan.runbook);
    return stepHistoryOf(runs.filter((r) => r.runId !== state.runId && r.startedAt <= state.startedAt));
  }

  /** "rehearsal N": the run's place among the runbook's runs, oldest first. */
  async label(state: RunState): Promise<string> {
    const all = (await this.deps.runs.recentRunIds(RECENT)).filter((r) => r.runbook === state.plan.runbook).sort((a, b) => a.startedAt - b.startedAt);
    const n = all.findIndex((r) => r.runId === state.runId);
    return n < 0 ? `run ${state.runId}` : `run ${n + 1}`;
  }

  private async loadFinished(runbook: string): Promise<RunState[]> {
    const ids = (await this.deps.runs.recentRunIds(RECENT)).filter((r) => r.runbook === runbook);
    const runs: RunState[] = [];
    for (const { runId } of ids) {
      const state = await this.finishedRun(runId);
      if (state) runs.push(state);
      if (runs.length >= KEEP_PER_RUNBOOK) break;
    }
    return runs;
  }

  /** The run folded, if it has finished (memoised then); null while it is still going or gone. */
  private async finishedRun(runId: string): Promise<RunState | null> {
    const known = this.folded.get(runId);
    if (known) return known;
    const state = (await this.deps.runs.history(runId))?.state;
    if (!state || !isFinished(state)) return null;
    this.folded.set(runId, state);
    if (this.folded.size > MEMO_RUNS) this.folded.delete(this.folded.keys().next().value as string);
    return state;
  }
}
