import { isUnreadableRun } from '../runbook/event-schema.js';
import type { RunState } from '../runbook/state.js';

/**
 * The newest fold of each active run that web has made anyway: the renderer
 * loads a run on every change (Redis pub/sub) and the reconciler every
 * RECONCILE_INTERVAL_MS; web's own commands return the run after their append.
 * The metrics gauges read from here at scrape time, so a scrape costs no fold
 * of a long run's thousands of events. It is a memo of the event log, never
 * written to on its own: a run not seen yet is loaded from Redis.
 */
export class LatestRuns {
  private readonly latest = new Map<string, RunState>();

  constructor(private readonly loadRun: (runId: string) => Promise<RunState | null>) {}

  /** Loads a run from its events and remembers the fold. */
  async load(runId: string): Promise<RunState | null> {
    const state = await this.loadRun(runId);
    if (state) this.remember(state);
    return state;
  }

  /** Keeps the newer of two folds: a slow load finishing late must not roll a run back. */
  remember(state: RunState): void {
    const known = this.latest.get(state.runId);
    if (!known || known.version <= state.version) this.latest.set(state.runId, state);
  }

  /** The runs holding an active slot now, from memory where known; forgets the others (bounded by the active runs). */
  async active(runIds: readonly string[]): Promise<RunState[]> {
    const wanted = new Set(runIds);
    for (const id of this.latest.keys()) if (!wanted.has(id)) this.latest.delete(id);
    // A run whose history cannot be read has no gauges; it must not take the other runs' away (the reconciler logs it).
    const states = await Promise.all(runIds.map((id) => this.latest.get(id) ?? this.load(id).catch((err: unknown) => (isUnreadableRun(err) ? null : Promise.reject(err)))));
    return states.filter((s): s is RunState => s !== null);
  }
}
