import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { MessageRefs } from '../config/redis-message-refs.js';
import type { StepHistory } from '../runbook/forecast.js';
import { allSteps, rollbackSteps, type PlanStep } from '../runbook/plan.js';
import { isFinished, type RunState, type StepState } from '../runbook/state.js';
import { ChannelQueue } from './channel-queue.js';
import { breather } from './offload/breather.js';
import { digestBatches, renderDigest, settled } from './render/digest-blocks.js';
import { renderRoot, type Rendered } from './render/run-blocks.js';
import { renderRollbackRequest } from './render/rollback-blocks.js';
import { renderStep } from './render/step-blocks.js';
import { renderCancelledRequest, renderStoryEntry } from './render/story-blocks.js';
import { CutoverError } from '../runbook/errors.js';
import { isUnreadableRun } from '../runbook/event-schema.js';

/** Field in the message-refs hash marking that the end-of-run report was sent. */
const REPORT_FLAG = 'report';

/** Ref field prefix: the ts of the digest that reported this step (it has no message of its own). */
const DIGESTED = 'digested:';
/** More settled steps than this without a message are a backlog: they are posted as digests. */
const DIGEST_AFTER = 3;

/** A post claim older than this belongs to a process that died before recording the message. */
const STALE_CLAIM_MS = 60_000;
const digest = (r: Rendered): string => createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 16);

/**
 * Projects a run's state onto Slack: one root message in the channel and one
 * message per step in its thread, each edited in place; steps that finished in
 * a burst, faster than Slack takes posts, share digest messages instead.
 * Renders of one run are serialised and coalesced (a burst of events becomes
 * one edit), posts go through a per-channel queue, and the WebClient honours
 * 429 Retry-After.
 */
export class RunPublisher {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly dirty = new Set<string>();
  private readonly queue: ChannelQueue;

  constructor(
    private readonly deps: {
      client: WebClient;
      refs: MessageRefs;
      load: (runId: string) => Promise<RunState | null>;
      log: Logger;
      now?: () => number;
      /** Minimum gap between two renders of one run (chat.update is ~50/min per workspace). */
      minIntervalMs?: number;
      postIntervalMs?: number;
      /** Earlier runs' step durations, for the rehearsal-aware forecast on the root message. */
      history?: (state: RunState) => Promise<StepHistory>;
      /** Called once per finished run (claimed in the refs hash, so not again after a restart or by another web process). */
      onFinished?: (state: RunState, rootTs: string) => Promise<void>;
      /**
       * Called before a step's message is rendered, with the refs read for the render: the go/no-go gate's
       * reconciliation report is posted there, above the gate's prompt. False leaves that message for a later
       * render (another process is posting what must come first). Must not throw.
       */
      beforeStep?: (state: RunState, planStep: PlanStep, step: StepState, rootTs: string, refs: Record<string, string>) => Promise<boolean>;
      /** Called after every render with the refs read for it (alerts, health notices); must not throw. */
      afterRender?: (state: RunState, rootTs: string, refs: Record<string, string>) => Promise<void>;
    },
  ) {
    this.queue = new ChannelQueue(deps.postIntervalMs ?? 1000);
  }

  /** Asks for a render; resolves when the run's messages reflect at least the state at call time. Never throws. */
  request(runId: string): Promise<void> {
    const running = this.inFlight.get(runId);
    if (running) {
      this.dirty.add(runId);
      return running;
    }
    const loop = (async () => {
      do {
        this.dirty.delete(runId);
        // A run whose history cannot be read is reported once by web's reconcile sweep and first in /migrate status;
        // logging it here too would repeat the same error for every render the sweep asks for, until someone repairs it.
        await this.renderOnce(runId).catch((err: unknown) => (isUnreadableRun(err) ? undefined : this.deps.log.error({ err, runId }, 'render failed')));
        if (this.dirty.has(runId)) await sleep(this.deps.minIntervalMs ?? 1000);
      } while (this.dirty.has(runId));
    })().finally(() => this.inFlight.delete(runId));
    this.inFlight.set(runId, loop);
    return loop;
  }

  private async renderOnce(runId: string): Promise<void> {
    const state = await this.deps.load(runId);
    if (!state) return;
    const now = (this.deps.now ?? Date.now)();
    const refs = await this.deps.refs.all(runId);
    const history = !isFinished(state) && this.deps.history ? await this.deps.history(state).catch(() => ({})) : {};
    const rootTs = await this.upsert(state, 'root', refs, renderRoot(state, now, history), undefined);
    if (!rootTs) return;
    const breathe = breather();
    const forward = allSteps(state.plan);
    const digests = this.backlog(state, forward, refs);
    for (const planStep of forward) {
      await breathe();
      const step = state.steps[planStep.id];
      if (!step || step.status === 'pending' || (settled(step) && refs[`${DIGESTED}${planStep.id}`])) continue;
      // A gate's reconciliation report is posted before the gate's message (beforeStep may hold the step back for it).
      if (this.deps.beforeStep && !(await this.deps.beforeStep(state, planStep, step, rootTs, refs))) continue;
      const digest = digests.get(planStep.id);
      if (digest) await this.postDigest(state, digest, refs, rootTs);
      if (digest || refs[`${DIGESTED}${planStep.id}`]) continue;
      await this.upsert(state, `step:${planStep.id}`, refs, renderStep(state, planStep, step, now), rootTs);
    }
    // The rollback request (one message per request), then its steps: step messages like any other.
    const rollback = renderRollbackRequest(state);
    if (state.rollback && rollback) await this.upsert(state, `rollback:${state.rollback.requestedAt}`, refs, rollback, rootTs);
    for (const planStep of state.rollback ? rollbackSteps(state.plan, state.rollback.scenario) : []) {
      const step = state.steps[planStep.id];
      if (!step || step.status === 'pending') continue;
      await this.upsert(state, `step:${planStep.id}`, refs, renderStep(state, planStep, step, now), rootTs);
    }
    // The story of the run as a whole, one thread message per entry, each posted once (entries never change).
    for (const [i, entry] of (state.story ?? []).entries()) {
      await breathe();
      await this.upsert(state, `story:${i}`, refs, renderStoryEntry(state, entry), rootTs);
      // A cancelled request's message loses its buttons, whichever way it was cancelled.
      if (entry.kind === 'rollback.cancelled' && refs[`rollback:${entry.requestedAt}`]) {
        await this.upsert(state, `rollback:${entry.requestedAt}`, refs, renderCancelledRequest(state, entry), rootTs);
      }
    }
    if (this.deps.afterRender) await this.deps.afterRender(state, rootTs, refs);
    if (isFinished(state) && this.deps.onFinished && refs[REPORT_FLAG] === undefined) await this.finished(state, rootTs, now);
  }

  /**
   * When more settled steps lack a message than DIGEST_AFTER (they finished
   * faster than Slack takes posts), they are reported in digests instead:
   * each batch keyed by its first step, in plan order. Other steps keep a
   * message of their own (a waiting step needs its buttons).
   */
  private backlog(state: RunState, steps: readonly PlanStep[], refs: Record<string, string>): Map<string, PlanStep[]> {
    const unposted = steps.filter((ps) => settled(state.steps[ps.id]) && !refs[`step:${ps.id}`] && !refs[`${DIGESTED}${ps.id}`]);
    if (unposted.length <= DIGEST_AFTER) return new Map();
    const batches = new Map<string, PlanStep[]>();
    for (const batch of digestBatches(state, unposted)) if (batch[0]) batches.set(batch[0].id, batch);
    return batches;
  }

  /**
   * Posts one digest. Each of its steps is claimed as its own message would
   * be (posting:step:<id>), so whichever way a step is reported, by this
   * process or another, it is reported once; the steps another process holds
   * are left to it.
   */
  private async postDigest(state: RunState, batch: readonly PlanStep[], refs: Record<string, string>, rootTs: string): Promise<void> {
    const mine: PlanStep[] = [];
    for (const ps of batch) if (await this.claimPost(state.runId, `step:${ps.id}`, [`step:${ps.id}`, `${DIGESTED}${ps.id}`])) mine.push(ps);
    if (mine.length === 0) return;
    const content = renderDigest(state, mine);
    const channel = state.channel;
    try {
      const posted = await this.queue.run(channel, 'post', () => this.deps.client.chat.postMessage({ channel, text: content.text, blocks: content.blocks, thread_ts: rootTs }));
      if (!posted.ts) throw new CutoverError('slack.no_ts', `chat.postMessage returned no ts for the digest from ${mine[0]?.id ?? ''}`);
      const fields = Object.fromEntries(mine.map((ps) => [`${DIGESTED}${ps.id}`, posted.ts ?? '']));
      await this.deps.refs.set(state.runId, fields);
      Object.assign(refs, fields);
    } finally {
      for (const ps of mine) await this.deps.refs.unset(state.runId, `posting:step:${ps.id}`);
    }
  }

  /** Claim first, so two renders (or two web processes) never both report; a failed report frees the claim for the next render. */
  private async finished(state: RunState, rootTs: string, now: number): Promise<void> {
    if (!this.deps.onFinished || !(await this.deps.refs.claim(state.runId, REPORT_FLAG, String(now)))) return;
    try {
      await this.deps.onFinished(state, rootTs);
    } catch (err) {
      this.deps.log.error({ err, runId: state.runId }, 'end-of-run report failed');
      await this.deps.refs.unset(state.runId, REPORT_FLAG);
    }
  }

  private async upsert(state: RunState, field: string, refs: Record<string, string>, content: Rendered, threadTs: string | undefined): Promise<string | undefined> {
    const ts = refs[field];
    const hash = digest(content);
    const channel = state.channel;
    if (ts && refs[`hash:${field}`] === hash) return ts;
    const { client } = this.deps;
    if (ts) {
      await this.queue.run(channel, 'update', () => client.chat.update({ channel, ts, text: content.text, blocks: content.blocks }));
      await this.deps.refs.set(state.runId, { [`hash:${field}`]: hash });
      return ts;
    }
    // Two web processes render the same run; only the one that claims a message posts it.
    const recorded = field.startsWith('step:') ? [field, `${DIGESTED}${field.slice('step:'.length)}`] : [field];
    if (!(await this.claimPost(state.runId, field, recorded))) return undefined;
    let posted: Awaited<ReturnType<WebClient['chat']['postMessage']>>;
    try {
      posted = await this.queue.run(channel, 'post', () =>
        client.chat.postMessage({ channel, text: content.text, blocks: content.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }),
      );
      if (!posted.ts) throw new CutoverError('slack.no_ts', `chat.postMessage returned no ts for ${field}`);
      await this.deps.refs.set(state.runId, { [field]: posted.ts, [`hash:${field}`]: hash });
    } finally {
      // Recorded or failed, the claim goes: a failed post is tried again by the next render.
      await this.deps.refs.unset(state.runId, `posting:${field}`);
    }
    return posted.ts;
  }

  /**
   * True for the one process that may post this message now. A claim left by a
   * process that died mid-post is taken over after STALE_CLAIM_MS, so the
   * message is late rather than missing. The claim is held only while posting:
   * whoever posts records the message (`recorded`: the fields that would hold
   * it) and then lets go, so the hash does not keep a claim per message.
   * Having claimed, it looks once more whether the message is recorded: the
   * claim may be free because another process has just posted it and let go,
   * or stale because a long render (a big run, posts paced by Slack) read the
   * refs minutes ago.
   */
  private async claimPost(runId: string, field: string, recorded: readonly string[]): Promise<boolean> {
    const key = `posting:${field}`;
    const now = Date.now();
    if (!(await this.deps.refs.claim(runId, key, String(now)))) {
      const since = Number(await this.deps.refs.get(runId, key));
      if (Number.isFinite(since) && now - since < STALE_CLAIM_MS) return false;
      await this.deps.refs.set(runId, { [key]: String(now) });
    }
    for (const f of recorded) {
      if (!(await this.deps.refs.get(runId, f))) continue;
      await this.deps.refs.unset(runId, key);
      return false;
    }
    return true;
  }

  /** Waits for renders in progress (used at shutdown and by tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
