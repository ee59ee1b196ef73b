import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadEnv } from '../../config/env.js';
import { freePort } from '../../local/free-port.js';
import { HttpPager } from '../../bot/paging/http-pager.js';
import { dedupKeyOf, severityOf, type PageEvent } from '../../bot/paging/page-event.js';
import { webhookBody, webhookSignature } from '../../bot/paging/page-webhook.js';
import { pagerDutyBody } from '../../bot/paging/pagerduty.js';
import { eventsV2Problem } from '../support/page-receiver.js';

const trigger: PageEvent = {
  action: 'trigger',
  dedupKey: dedupKeyOf('kgv-20240309-2200-ab12', 'load-antrag'),
  runId: 'kgv-20240309-2200-ab12',
  runbook: 'kgv',
  stepId: 'load-antrag',
  level: 'page',
  summary: `KGV: "Load Antrag" failed: ${'x'.repeat(2000)}`,
  severity: severityOf('page'),
  at: Date.UTC(2024, 2, 9, 23, 12),
  round: 2,
};

describe('PagerDuty Events API v2 bodies', () => {
  it('a trigger carries a valid payload, clipped to 1024 characters, keyed by run and step', () => {
    const body = pagerDutyBody('ROUTINGKEY', trigger);
    expect(eventsV2Problem(body, 'ROUTINGKEY')).toBeNull();
    expect(body).toMatchObject({ event_action: 'trigger', dedup_key: 'kgv-20240309-2200-ab12/load-antrag' });
    const payload = body['payload'] as Record<string, unknown>;
    expect(payload).toMatchObject({ source: 'cutover/kgv', severity: 'critical', timestamp: '2024-03-09T23:12:00.000Z', group: 'kgv-20240309-2200-ab12', class: 'page' });
    expect((payload['summary'] as string).length).toBe(1024);
  });

  it('acknowledge and resolve carry only key, action and dedup_key; the rollback has a key of its own', () => {
    expect(pagerDutyBody('K', { ...trigger, action: 'acknowledge' })).toEqual({ routing_key: 'K', event_action: 'acknowledge', dedup_key: trigger.dedupKey });
    expect(pagerDutyBody('K', { ...trigger, action: 'resolve' })).toEqual({ routing_key: 'K', event_action: 'resolve', dedup_key: trigger.dedupKey });
    expect(dedupKeyOf('run-1', null)).toBe('run-1/rollback');
    expect([severityOf('escalation'), severityOf('stalled'), severityOf('timeout')]).toEqual(['error', 'critical', 'critical']);
  });
});

describe('the paging webhook', () => {
  it('signs "<timestamp>.<body>" with HMAC-SHA256, so a changed body or timestamp no longer matches', () => {
    const body = webhookBody(trigger);
    const sig = webhookSignature('s3cret-s3cret-s3cret', 1_710_025_920, body);
    expect(sig).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(webhookSignature('s3cret-s3cret-s3cret', 1_710_025_921, body)).not.toBe(sig);
    expect(webhookSignature('s3cret-s3cret-s3cret', 1_710_025_920, body.replace('page', 'pagf'))).not.toBe(sig);
    expect(JSON.parse(body)).toMatchObject({ type: 'cutover.page', action: 'trigger', dedup_key: trigger.dedupKey, run_id: trigger.runId, step_id: 'load-antrag', repeat: 2 });
  });

  it('a target the environment does not configure answers with what is missing, without sending anything', async () => {
    const pager = new HttpPager({ pagerduty: null, webhook: null }, pino({ level: 'silent' }));
    expect(await pager.send(['pagerduty', 'webhook'], trigger)).toEqual([
      { target: 'pagerduty', ok: false, detail: 'PAGERDUTY_ROUTING_KEY is not set' },
      { target: 'webhook', ok: false, detail: 'PAGE_WEBHOOK_URL and PAGE_WEBHOOK_SECRET are not set' },
    ]);
  });

  it('an unreachable endpoint is a result after three tries, never a throw', async () => {
    // A port nothing listens on (found free, then left closed).
    const port = await freePort();
    const pager = new HttpPager({ pagerduty: { routingKey: 'K', eventsUrl: `http://127.0.0.1:${port}/v2/enqueue` }, webhook: null, timeoutMs: 500 }, pino({ level: 'silent' }));
    const [result] = await pager.send(['pagerduty'], trigger);
    expect(result).toMatchObject({ target: 'pagerduty', ok: false });
    expect(result?.detail).toMatch(/ECONNREFUSED after 3 tries/);
  });

  it('the environment takes the webhook URL and secret only together', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-fake', SLACK_SIGNING_SECRET: 'signing-secret-123' };
    expect(() => loadEnv({ ...base, PAGE_WEBHOOK_URL: 'https://hooks.example.org/page' })).toThrow(/PAGE_WEBHOOK_SECRET is required with the other/);
    expect(loadEnv({ ...base, PAGE_WEBHOOK_URL: 'https://hooks.example.org/page', PAGE_WEBHOOK_SECRET: 'a-secret-of-16-chars' }).PAGE_WEBHOOK_URL).toBe('https://hooks.example.org/page');
  });
});
