import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { MessageRefs } from '../../config/redis-message-refs.js';
import type { ScheduleStore } from '../../config/schedule-store.js';
import { decide } from '../../runbook/decide.js';
import type { Actor } from '../../runbook/policy.js';
import type { RunService } from '../../runbook/run-service.js';
import { isFinished, type RunState } from '../../runbook/state.js';
import { isInvolved, waitingFor, type WaitingItem } from '../../runbook/waiting-for.js';
import type { ActorResolver } from '../actors.js';
import { renderHome, type HomeData } from './home-view.js';

interface HomePublisherDeps {
  client: WebClient;
  service: Pick<RunService, 'activeRuns' | 'recentRuns'>;
  schedules: Pick<ScheduleStore, 'list'>;
  actors: Pick<ActorResolver, 'resolve'>;
  refs: Pick<MessageRefs, 'get'>;
  log: Logger;
  now: () => number;
  /** One person's Home is published at most this often; changes in between are coalesced into the next. Default 2 s. */
  perUserIntervalMs?: number;
  /** Spacing between any two views.publish calls (Slack's Tier 4: about 100 a minute). Default 600 ms. */
  spacingMs?: number;
  /** A person who has not opened their Home for this long is no longer refreshed on run changes. Default 24 h. */
  viewerTtlMs?: number;
}

/** Finished runs shown under "Recent runs", and how far back they are looked for. */
const RECENT_SHOWN = 5;
const RECENT_LOOKED_AT = 30;

/**
 * Publishes each person's App Home: when they open it, and again when a run
 * they are involved in changes. Publishing is coalesced per person (one
 * view in flight, then at most one more with the latest state) and spaced
 * across people so the process never exceeds Slack's rate for views.publish.
 * Who opened their Home is kept in memory: after a restart a Home is
 * refreshed again from the next time its owner opens it. Never throws.
 */
export class HomePublisher {
  private readonly viewers = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly lastPublished = new Map<string, number>();
  private readonly permalinks = new Map<string, string>();
  private nextSlot = 0;
  private stopped = false;

  constructor(private readonly deps: HomePublisherDeps) {}

  /** `app_home_opened`: remember the person and show them their Home now. */
  opened(user: string): Promise<void> {
    this.viewers.set(user, this.deps.now());
    return this.request(user);
  }

  /** A run changed: refresh the Home of everyone who has it open and is involved in the run. */
  async runChanged(state: RunState): Promise<void> {
    const now = this.deps.now();
    const ttl = this.deps.viewerTtlMs ?? 86_400_000;
    for (const [user, openedAt] of this.viewers) {
      if (now - openedAt > ttl) {
        this.viewers.delete(user);
        continue;
      }
      try {
        if (isInvolved(state, await this.deps.actors.resolve(user, state.plan))) void this.request(user);
      } catch (err) {
        this.deps.log.warn({ err, user, runId: state.runId }, 'could not tell whether a Home needs refreshing');
      }
    }
  }

  /** Publishes the person's Home soon: at once when idle, else once after the one in flight (coalesced). */
  request(user: string): Promise<void> {
    this.dirty.add(user);
    const running = this.inFlight.get(user);
    if (running) return running;
    const loop = (async () => {
      while (this.dirty.has(user) && !this.stopped) {
        this.dirty.delete(user);
        const wait = Math.max((this.lastPublished.get(user) ?? 0) + (this.deps.perUserIntervalMs ?? 2000) - Date.now(), this.claimSlot());
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (this.stopped) return;
        this.lastPublished.set(user, Date.now());
        await this.publish(user).catch((err: unknown) => this.deps.log.warn({ err, user }, 'views.publish failed; the Home is refreshed on the next change or open'));
      }
    })().finally(() => this.inFlight.delete(user));
    this.inFlight.set(user, loop);
    return loop;
  }

  /** Waits for every publish in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Milliseconds to wait for this call's turn in the process-wide spacing. */
  private claimSlot(): number {
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + (this.deps.spacingMs ?? 600);
    return at - now;
  }

  private async publish(user: string): Promise<void> {
    const view = renderHome(await this.gather(user));
    await this.deps.client.views.publish({ user_id: user, view });
  }

  /** Everything the Home shows, read through the run service and decided by the core for this person. */
  private async gather(user: string): Promise<HomeData> {
    const now = this.deps.now();
    const [active, recent, scheduled] = await Promise.all([this.deps.service.activeRuns(), this.deps.service.recentRuns(RECENT_LOOKED_AT), this.deps.schedules.list()]);
    const waiting: HomeData['waiting'] = [];
    const runs: HomeData['active'] = [];
    for (const state of active.sort((a, b) => b.startedAt - a.startedAt)) {
      const actor = await this.deps.actors.resolve(user, state.plan);
      for (const item of waitingFor(state, actor, now)) waiting.push({ ...item, runTitle: state.plan.title, link: await this.linkTo(state, item) });
      runs.push({ state, mayAbort: previewAccepts(state, actor, now, 'abort'), mayRollback: previewAccepts(state, actor, now, 'rollback') });
    }
    const finished = recent.filter(isFinished).slice(0, RECENT_SHOWN);
    return {
      user,
      now,
      active: runs,
      waiting: waiting.sort((a, b) => (a.since ?? now) - (b.since ?? now)),
      scheduled: scheduled.filter((s) => s.at > now),
      recent: await Promise.all(finished.map(async (state) => ({ state, link: await this.permalink(state, 'root') }))),
    };
  }

  private linkTo(state: RunState, item: WaitingItem): Promise<string | null> {
    if (item.kind === 'rollback') return this.permalink(state, `rollback:${item.since}`);
    if (item.stepId !== null) return this.permalink(state, `step:${item.stepId}`);
    return this.permalink(state, `rollback:${state.rollback?.requestedAt ?? 0}`);
  }

  /** A link to one of the run's messages; cached, since a message's link never changes. Null when it is not posted (yet). */
  private async permalink(state: RunState, field: string): Promise<string | null> {
    const key = `${state.runId}:${field}`;
    const hit = this.permalinks.get(key);
    if (hit) return hit;
    try {
      const ts = await this.deps.refs.get(state.runId, field);
      if (!ts) return null;
      const res = await this.deps.client.chat.getPermalink({ channel: state.channel, message_ts: ts });
      if (!res.permalink) return null;
      this.permalinks.set(key, res.permalink);
      return res.permalink;
    } catch (err) {
      this.deps.log.debug({ err, runId: state.runId, field }, 'no permalink for the Home');
      return null;
    }
  }
}

/** Whether the core would accept an abort or a rollback request from this person now (a placeholder reason: the modal asks for the real one). */
function previewAccepts(state: RunState, actor: Actor, at: number, what: 'abort' | 'rollback'): boolean {
  const reason = 'preview for the Home tab';
  return decide(state, what === 'abort' ? { type: 'abort', at, actor, reason } : { type: 'rollback.request', at, actor, scenario: null, reason }).ok;
}
