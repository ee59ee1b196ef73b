/**
 * Tells running steps that their run changed, from the run-update feed the
 * bot renders from (one subscription per worker process, fanned out by run
 * id), so an abort or a rollback request reaches a running step within a
 * round trip instead of a poll interval. The feed is lossy (Redis pub/sub
 * drops what is published while a subscriber reconnects, and a process that
 * dies between its append and its publish never publishes): each watcher is
 * also called on a slow safety timer, which bounds how late a missed notice
 * can be acted on.
 */
export class RunWatch {
  private readonly watchers = new Map<string, Set<() => void>>();

  constructor(private readonly safetyPollMs: number) {}

  /** Feed this with every run id the update feed announces. */
  notify(runId: string): void {
    for (const check of this.watchers.get(runId) ?? []) check();
  }

  /**
   * Calls `check` on every notice for the run and at least every safetyPollMs
   * until the returned function is called. `check` must not throw.
   */
  watch(runId: string, check: () => void): () => void {
    const set = this.watchers.get(runId) ?? new Set<() => void>();
    set.add(check);
    this.watchers.set(runId, set);
    const timer = setInterval(check, this.safetyPollMs);
    timer.unref();
    return () => {
      clearInterval(timer);
      set.delete(check);
      if (set.size === 0) this.watchers.delete(runId);
    };
  }
}

/**
 * Runs `load` for a watcher no more than one at a time: notices that arrive
 * while a load is in flight are folded into one more load after it, so a
 * burst of progress events costs two loads, not one per event.
 */
export function coalesced(load: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void load()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          run();
        }
      });
  };
  return run;
}
