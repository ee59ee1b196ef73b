import { deliver, type SlackDelivery } from './signed-requests.js';

/** How a delivery to the bot ended, for the person who typed or clicked. */
export type DeliveryOutcome =
  | { ok: true; delivery: SlackDelivery }
  /** Slack's words for what the user sees: operation_timeout, dispatch_failed… */
  | { ok: false; error: string; detail: string };

export interface BotEndpoint {
  /** `http://127.0.0.1:PORT`: the bot's `POST /slack/events` is below it. */
  url: string;
  signingSecret: string;
}

export interface DeliveryPolicy {
  /** Slack waits 3 s for the bot's HTTP answer. */
  timeoutMs: number;
  /** Pauses before retries 1..n (Slack: nearly at once, after ~1 min, after ~5 min). */
  retryDelaysMs: number[];
}

export const SLACK_DELIVERY: DeliveryPolicy = { timeoutMs: 3000, retryDelaysMs: [0, 60_000, 300_000] };

/**
 * Delivers one signed request as Slack does: a 3 s deadline, and when the bot
 * does not answer in time, answers 5xx or cannot be reached, the byte-identical
 * body again with X-Slack-Retry-Num / X-Slack-Retry-Reason. Resolves with the
 * first attempt's outcome (what the person sees at once); `onRetryOutcome`
 * hears how later retries went. `stopped()` ends pending retries (shutdown).
 */
export async function deliverLikeSlack(
  bot: BotEndpoint,
  rawBody: string,
  triggerId: string,
  policy: DeliveryPolicy,
  hooks: { onRetryOutcome?: (attempt: number, outcome: DeliveryOutcome) => void; stopped?: () => boolean } = {},
): Promise<DeliveryOutcome> {
  const first = await attempt(bot, rawBody, triggerId, policy.timeoutMs, undefined);
  if (first.ok || !retryable(first)) return first;
  void (async () => {
    for (const [i, delay] of policy.retryDelaysMs.entries()) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (hooks.stopped?.()) return;
      const reason = first.error === 'operation_timeout' ? 'http_timeout' : 'http_error';
      const outcome = await attempt(bot, rawBody, triggerId, policy.timeoutMs, { retryNum: i + 1, retryReason: reason });
      hooks.onRetryOutcome?.(i + 1, outcome);
      if (outcome.ok || !retryable(outcome)) return;
    }
  })();
  return first;
}

function retryable(outcome: DeliveryOutcome): boolean {
  return !outcome.ok && (outcome.error === 'operation_timeout' || outcome.error === 'dispatch_failed');
}

async function attempt(
  bot: BotEndpoint,
  rawBody: string,
  triggerId: string,
  timeoutMs: number,
  retry: { retryNum: number; retryReason: string } | undefined,
): Promise<DeliveryOutcome> {
  try {
    const delivery = await deliver(bot.url, bot.signingSecret, rawBody, { ...retry, timeoutMs }, triggerId);
    if (delivery.status === 200) return { ok: true, delivery };
    // Slack reports any other answer as dispatch_failed; a 5xx is retried, a 4xx (bad signature, no listener) is not.
    return delivery.status >= 500
      ? { ok: false, error: 'dispatch_failed', detail: `the bot answered HTTP ${delivery.status}` }
      : { ok: false, error: 'dispatch_failed_no_retry', detail: `the bot answered HTTP ${delivery.status}${delivery.body ? `: ${delivery.body.slice(0, 200)}` : ''}` };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return { ok: false, error: 'operation_timeout', detail: `the bot did not answer within ${timeoutMs / 1000} s` };
    }
    return { ok: false, error: 'dispatch_failed', detail: `the bot could not be reached: ${err instanceof Error ? err.message : String(err)}` };
  }
}
