import { createHmac } from 'node:crypto';
import { postWithRetry } from './http-post.js';
import type { PageEvent } from './page-event.js';

/** The signature of a webhook delivery: `v1=` hex HMAC-SHA256 of `<timestamp>.<body>`, as the receiver recomputes it. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The webhook's JSON body: the page event, flat, with ISO times. */
export function webhookBody(e: PageEvent): string {
  return JSON.stringify({
    type: 'cutover.page',
    action: e.action,
    dedup_key: e.dedupKey,
    run_id: e.runId,
    runbook: e.runbook,
    step_id: e.stepId,
    level: e.level,
    severity: e.severity,
    summary: e.summary,
    at: new Date(e.at).toISOString(),
    ...(e.by ? { by: e.by } : {}),
    ...(e.round ? { repeat: e.round } : {}),
  });
}

/**
 * POSTs the event, signed: `X-Cutover-Timestamp` (unix seconds) and
 * `X-Cutover-Signature`. A receiver recomputes the HMAC over the timestamp and
 * the raw body with the shared secret, compares in constant time, and refuses
 * a timestamp more than 5 minutes old (a replay). Each try is signed afresh.
 */
export async function sendToWebhook(config: { url: string; secret: string; timeoutMs: number }, e: PageEvent): Promise<{ ok: boolean; detail: string }> {
  const body = webhookBody(e);
  const headers = (): Record<string, string> => {
    const ts = Math.floor(Date.now() / 1000);
    return { 'x-cutover-timestamp': String(ts), 'x-cutover-signature': webhookSignature(config.secret, ts, body) };
  };
  const r = await postWithRetry(config.url, body, headers, { attempts: 3, timeoutMs: config.timeoutMs, backoffMs: 500 });
  return { ok: r.ok, detail: `${r.detail}${r.attempts > 1 ? ` after ${r.attempts} tries` : ''}` };
}
