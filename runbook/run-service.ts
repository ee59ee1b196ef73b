import { decide, type Command } from './decide.js';
import type { Effect } from './effects.js';
import type { RunEvent } from './events.js';
import type { FollowUpIndex, JobQueue, RunStore } from './ports.js';
import { FoldCache } from './fold-cache.js';
import { fold, type RunState } from './state.js';

/** Tells listeners (the bot's renderer, the worker's cancel watch) that a run changed. */
export interface RunUpdates {
  publish(runId: string): Promise<void>;
}

export type Outcome =
  | { ok: true; state: RunState; events: RunEvent[] }
  | { ok: false; code: string; message: string; state: RunState | null };

/** A run's place in the store's index: enough to list runs without reading their events. */
export interface RunListing {
  runId: string;
  runbook: string;
  startedAt: number;
}

/**
 * What the bot reads about runs (App Home, listings, reports, the sweeps).
 * Writes go through RunService's commands; nothing outside the run service
 * and the process wiring touches the RunStore itself.
 */
export interface RunQueries {
  /** A run folded from its events (cached per process), null when it does not exist. */
  load(runId: string): Promise<RunState | null>;
  /** The runs holding an active slot now, one per runbook, without reading them. */
  activeRunIds(): Promise<Array<{ runbook: string; runId: string }>>;
  /** The runs holding an active slot now, folded; a run whose events are gone is left out. */
  activeRuns(): Promise<RunState[]>;
  /** The most recent runs, newest first, active and finished, without reading them. */
  recentRunIds(limit: number): Promise<RunListing[]>;
  /** The most recent runs, newest first, folded. */
  recentRuns(limit: number): Promise<RunState[]>;
  /**
   * A run's whole history and the state folded from it afresh (reports and
   * comparisons read finished runs once; they do not belong in the fold cache
   * that serves the runs in progress). Null when the run does not exist.
   */
  history(runId: string): Promise<{ state: RunState; events: RunEvent[] } | null>;
}

/**
 * Load → decide → append → execute effects, over ports only (it performs no
 * I/O of its own). Shared by the bot and the worker so both write a run the
 * same way: with an expected version, re-deciding when they lose a race.
 */
export class RunService implements RunQueries {
  /** Every read of a run goes through here, so each folds only what was appended since the last. */
  readonly folds: FoldCache;

  constructor(
    private readonly deps: {
      store: RunStore<RunEvent>;
      queue: JobQueue;
      updates: RunUpdates;
      /** Where a completed run with open follow-ups is listed for the follow-up sweep (web and worker both complete runs). */
      followUps?: FollowUpIndex;
      /** Conflicting writers re-decide; a handful of rounds settles any realistic burst of clicks. */
      maxRounds?: number;
      /**
       * Told of every batch this process appended, with the run after it (the
       * process's metrics count from it). Must not throw; if it does, the
       * write already happened and is not failed for it.
       */
      observe?: (state: RunState, events: readonly RunEvent[]) => void;
      /** How many runs' folds this process keeps (see FoldCache). */
      foldCacheSize?: number;
    },
  ) {
    this.folds = new FoldCache(deps.store, deps.foldCacheSize);
  }

  async load(runId: string): Promise<RunState | null> {
    return (await this.folds.load(runId)).state;
  }

  activeRunIds(): Promise<Array<{ runbook: string; runId: string }>> {
    return this.deps.store.active();
  }

  async activeRuns(): Promise<RunState[]> {
    return this.loadAll((await this.deps.store.active()).map((a) => a.runId));
  }

  recentRunIds(limit: number): Promise<RunListing[]> {
    return this.deps.store.recent(limit);
  }

  async recentRuns(limit: number): Promise<RunState[]> {
    return this.loadAll((await this.deps.store.recent(limit)).map((r) => r.runId));
  }

  async history(runId: string): Promise<{ state: RunState; events: RunEvent[] } | null> {
    const { events } = await this.deps.store.load(runId);
    const state = fold(events);
    return state ? { state, events } : null;
  }

  private async loadAll(runIds: string[]): Promise<RunState[]> {
    return (await Promise.all(runIds.map((id) => this.load(id)))).filter((s): s is RunState => s !== null);
  }

  /** Creates a run, claiming its runbook's single active slot. */
  async start(command: Extract<Command, { type: 'start' }>): Promise<Outcome> {
    const decision = decide(null, command);
    if (!decision.ok) return { ...decision, state: null };
    const created = await this.deps.store.create(command.runId, command.plan.runbook, decision.events);
    if (!created.ok) {
      return {
        ok: false,
        code: 'run.already_active',
        message: `A run of ${command.plan.runbook} is already active (${created.activeRunId}); finish or abort it first.`,
        state: await this.load(created.activeRunId),
      };
    }
    return this.afterAppend(command.runId, decision);
  }

  /** Applies a command to an existing run. Never throws for a refusal or a lost race. */
  async execute(runId: string, command: Exclude<Command, { type: 'start' }>): Promise<Outcome> {
    const rounds = this.deps.maxRounds ?? 20;
    for (let round = 0; round < rounds; round++) {
      const { state, version } = await this.folds.load(runId);
      const decision = decide(state, command);
      if (!decision.ok) return { ...decision, state };
      if (decision.events.length === 0) return { ok: true, state: decision.state, events: [] };
      const appended = await this.deps.store.append(runId, version, decision.events);
      if (appended.ok) return this.afterAppend(runId, decision);
    }
    return { ok: false, code: 'run.contended', message: 'Too many people changed this run at the same moment; try again.', state: await this.load(runId) };
  }

  /**
   * The events are stored: perform the effects the decision listed. A crash
   * before they all ran leaves them owed by the run's state, and the
   * reconciler derives and performs the same list again (each is harmless twice).
   */
  private async afterAppend(runId: string, decision: { state: RunState; events: RunEvent[]; effects: readonly Effect[] }): Promise<Outcome> {
    const { state, events } = decision;
    try {
      this.deps.observe?.(state, events);
    } catch {
      // Counting is secondary: the events are stored and their effects must still run.
    }
    await this.applyEffects(decision.effects);
    // A notice, not an effect: lossy by design, listeners re-read the run anyway.
    await this.deps.updates.publish(runId);
    return { ok: true, state, events };
  }

  /** Performs effects in list order (the order `owedEffects` gives them matters). Each is idempotent at its port. */
  async applyEffects(effects: readonly Effect[]): Promise<void> {
    for (const effect of effects) await this.perform(effect);
  }

  private async perform(effect: Effect): Promise<void> {
    switch (effect.type) {
      case 'step.enqueue':
        return this.deps.queue.enqueue(effect.job);
      case 'follow_ups.list':
        return this.deps.followUps?.add(effect.runId);
      case 'follow_ups.unlist':
        return this.deps.followUps?.remove(effect.runId);
      case 'slot.release':
        return this.deps.store.release(effect.runbook, effect.runId);
    }
  }
}
