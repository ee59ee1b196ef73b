import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { BotDeps } from '../../bot/deps.js';
import { CLICK_FAILED, onRunClick, UNKNOWN_BUTTON, type RunClick } from '../../bot/listeners/actions/run-click.js';
import type { RunState } from '../../runbook/state.js';

type Value = { runId: string };
const decode = (raw: string | undefined): Value | null => (raw?.startsWith('run:') ? { runId: raw.slice(4) } : null);

/** Just what onRunClick touches of the bot's deps and of Bolt's listener arguments. */
function harness(over: { load?: (runId: string) => Promise<RunState | null> } = {}) {
  const seen = new Set<string>();
  const told: string[] = [];
  const handled: Array<RunClick<Value>> = [];
  let acks = 0;
  const deps = {
    dedup: { firstDelivery: async (key: string) => !seen.has(key) && Boolean(seen.add(key)) },
    service: { load: over.load ?? (async (runId: string) => ({ runId }) as unknown as RunState) },
    log: pino({ level: 'silent' }),
  } as unknown as BotDeps;
  const client = { chat: { postEphemeral: async ({ text }: { text: string }) => void told.push(text) } };
  const listener = onRunClick<Value>(deps, 'test button', decode, async (click) => {
    handled.push(click);
    if (click.value.runId === 'boom') throw new Error('handler failed');
  });
  const click = (value: string, actionTs = '1.1') =>
    listener({
      ack: async () => void acks++,
      body: { user: { id: 'U1' }, channel: { id: 'C1' }, container: { message_ts: '9.9' } },
      action: { type: 'button', action_id: 'test.go', action_ts: actionTs, value },
      client,
    } as never);
  return { click, told, handled, acks: () => acks };
}

describe('onRunClick: what every run button does before its own part', () => {
  it('acks, hands a new click its loaded run, and drops the same delivery when Slack repeats it', async () => {
    const h = harness();
    await h.click('run:r1');
    await h.click('run:r1');
    expect(h.acks()).toBe(2);
    expect(h.handled.map((c) => [c.value.runId, c.state.runId, c.messageTs, c.actionId])).toEqual([['r1', 'r1', '9.9', 'test.go']]);
    await h.click('run:r1', '1.2'); // a second, deliberate click is a new delivery
    expect(h.handled).toHaveLength(2);
  });

  it('tells the clicker, and only them, about a value it does not understand or a run that is gone', async () => {
    const h = harness({ load: async () => null });
    await h.click('garbage');
    await h.click('run:gone');
    expect(h.told).toEqual([UNKNOWN_BUTTON, 'Run gone no longer exists.']);
    expect(h.handled).toHaveLength(0);
  });

  it('answers a failing handler or store with a sentence instead of failing silently', async () => {
    const h = harness();
    await h.click('run:boom');
    const broken = harness({ load: async () => Promise.reject(new Error('redis down')) });
    await broken.click('run:r1');
    expect([h.told, broken.told]).toEqual([[CLICK_FAILED], [CLICK_FAILED]]);
  });
});
