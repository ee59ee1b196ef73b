import type { RunEvent } from './events.js';
import type { RunStore } from './ports.js';
import { fold, type RunState } from './state.js';

interface Folded {
  state: RunState;
  version: number;
  cursor: string | null;
}

/**
 * Each run's fold as of the stream version it was read at, so reading a run
 * again folds only the events added since: a run of 10,000 events costs its
 * new events per click, progress report or render, not 10,000 (bench/fold.ts).
 * Safe to share because fold never writes the state it goes on from. It is a memo of the
 * stream, never written on its own: after an append the next read fetches
 * the appended events like anyone else's, so what is folded is always what
 * was read back (and checked). Holds the `capacity` runs read most recently.
 */
export class FoldCache {
  private readonly runs = new Map<string, Folded>();
  /** Events folded so far (a test and the benchmark read it to see what a read cost). */
  folded = 0;

  constructor(
    private readonly store: RunStore<RunEvent>,
    private readonly capacity = 256,
  ) {}

  /** The run folded to its latest event and the version that is; state null for a run with no (start) event. */
  async load(runId: string): Promise<{ state: RunState | null; version: number }> {
    const known = this.runs.get(runId);
    const read = known ? await this.store.loadAfter(runId, { version: known.version, cursor: known.cursor }) : null;
    // No memo, or the stream no longer extends it (a test's reset store): fold from the first event.
    const base = read && known ? known.state : null;
    const fresh = read ?? (await this.store.loadAfter(runId, { version: 0, cursor: null }));
    if (!fresh) return { state: null, version: 0 };
    // Fold updates a steps record it made in place; on a memo it copies the memo's record once (the memo is shared)
    // rather than once per event: a burst of 300 events on a 3,000-step run copied 900,000 entries, 250 ms of web's loop.
    const state = fold(fresh.events, base);
    this.folded += fresh.events.length;
    if (state) this.remember(runId, { state, version: fresh.version, cursor: fresh.cursor });
    return { state, version: fresh.version };
  }

  /** Keeps the newer of two reads (two loads of one run can finish out of order); most recently used last. */
  private remember(runId: string, folded: Folded): void {
    const known = this.runs.get(runId);
    if (known && known.version > folded.version) return;
    this.runs.delete(runId);
    this.runs.set(runId, folded);
    if (this.runs.size > this.capacity) {
      const oldest = this.runs.keys().next().value;
      if (oldest !== undefined) this.runs.delete(oldest);
    }
  }
}
