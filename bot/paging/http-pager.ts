import type { Logger } from 'pino';
import { sendToWebhook } from './page-webhook.js';
import type { PageEvent, PageResult, PageTarget, Pager } from './page-event.js';
import { sendToPagerDuty } from './pagerduty.js';

/** Where pages go, from the environment (docs/running.md); a target left unset answers every page with why. */
export interface PagerConfig {
  pagerduty: { routingKey: string; eventsUrl: string } | null;
  webhook: { url: string; secret: string } | null;
  timeoutMs?: number;
}

/**
 * The pager of web: PagerDuty Events API v2 and a generic signed webhook,
 * each tried on its own so one being down never keeps the other (or Slack)
 * from being paged. Logs the target, the action and the outcome — never the
 * routing key, the secret or the webhook's URL (it may carry a token).
 */
export class HttpPager implements Pager {
  constructor(
    private readonly config: PagerConfig,
    private readonly log: Logger,
  ) {}

  async send(targets: readonly PageTarget[], event: PageEvent): Promise<PageResult[]> {
    const results: PageResult[] = [];
    for (const target of targets) {
      const r = await this.one(target, event).catch((err: unknown) => ({ ok: false, detail: err instanceof Error ? err.name : 'failed' }));
      results.push({ target, ...r });
      const fields = { target, action: event.action, dedupKey: event.dedupKey, ok: r.ok, detail: r.detail };
      if (r.ok) this.log.info(fields, 'page sent');
      else this.log.warn(fields, 'page not delivered');
    }
    return results;
  }

  private async one(target: PageTarget, event: PageEvent): Promise<{ ok: boolean; detail: string }> {
    const timeoutMs = this.config.timeoutMs ?? 5000;
    switch (target) {
      case 'pagerduty': {
        const pd = this.config.pagerduty;
        if (!pd) return { ok: false, detail: 'PAGERDUTY_ROUTING_KEY is not set' };
        return sendToPagerDuty({ ...pd, timeoutMs }, event);
      }
      case 'webhook': {
        const wh = this.config.webhook;
        if (!wh) return { ok: false, detail: 'PAGE_WEBHOOK_URL and PAGE_WEBHOOK_SECRET are not set' };
        return sendToWebhook({ ...wh, timeoutMs }, event);
      }
    }
  }
}
