import { clip } from '../render/format.js';
import { postWithRetry } from './http-post.js';
import type { PageEvent } from './page-event.js';

/**
 * The PagerDuty Events API v2 body of a page event: a trigger carries the
 * payload (summary ≤ 1024 characters, source, severity, timestamp, and the run
 * in component/group/class/custom_details); acknowledge and resolve carry only
 * the routing key, the action and the dedup_key that names the incident.
 */
export function pagerDutyBody(routingKey: string, e: PageEvent): Record<string, unknown> {
  const base = { routing_key: routingKey, event_action: e.action, dedup_key: e.dedupKey };
  if (e.action !== 'trigger') return base;
  return {
    ...base,
    payload: {
      summary: clip(e.summary, 1024),
      source: `cutover/${e.runbook}`,
      severity: e.severity,
      timestamp: new Date(e.at).toISOString(),
      component: e.runbook,
      group: e.runId,
      class: e.level ?? 'alert',
      custom_details: { run: e.runId, step: e.stepId ?? 'rollback', level: e.level, ...(e.round ? { repeat: e.round } : {}) },
    },
    client: 'cutover',
  };
}

/** Sends one event; `ok` once PagerDuty answered 2xx (202 Accepted). The routing key never leaves the body. */
export async function sendToPagerDuty(config: { routingKey: string; eventsUrl: string; timeoutMs: number }, e: PageEvent): Promise<{ ok: boolean; detail: string }> {
  const r = await postWithRetry(config.eventsUrl, JSON.stringify(pagerDutyBody(config.routingKey, e)), () => ({}), { attempts: 3, timeoutMs: config.timeoutMs, backoffMs: 500 });
  return { ok: r.ok, detail: `${r.detail}${r.attempts > 1 ? ` after ${r.attempts} tries` : ''}` };
}
