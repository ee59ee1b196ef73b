import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A local stand-in for PagerDuty's Events API v2 and for a paging webhook, for
 * the end-to-end suites. It checks each request as the real receiver would —
 * the Events v2 body (routing key, event_action, dedup_key, and a trigger's
 * payload: summary ≤ 1024, source, severity, ISO timestamp) answering 202 or
 * 400 with the reason; the webhook's HMAC signature and timestamp — and keeps
 * what it accepted. `down(n)` answers the next n PagerDuty requests 503.
 */
export interface PageReceiver {
  readonly origin: string;
  readonly pagerDuty: Array<Record<string, unknown>>;
  readonly webhook: Array<Record<string, unknown>>;
  /** Requests refused, with why (a test asserts there are none). */
  readonly refused: string[];
  down(times: number): void;
  close(): Promise<void>;
}

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
const ACTIONS = new Set(['trigger', 'acknowledge', 'resolve']);

/** Why an Events v2 body would be refused by PagerDuty, or null. */
export function eventsV2Problem(body: unknown, routingKey: string): string | null {
  if (typeof body !== 'object' || body === null) return 'body is not a JSON object';
  const b = body as Record<string, unknown>;
  if (b['routing_key'] !== routingKey) return 'routing_key is wrong';
  if (typeof b['event_action'] !== 'string' || !ACTIONS.has(b['event_action'])) return 'event_action must be trigger, acknowledge or resolve';
  if (typeof b['dedup_key'] !== 'string' || b['dedup_key'].length === 0 || b['dedup_key'].length > 255) return 'dedup_key must be 1–255 characters';
  if (b['event_action'] !== 'trigger') return null;
  const p = b['payload'];
  if (typeof p !== 'object' || p === null) return 'a trigger needs a payload';
  const payload = p as Record<string, unknown>;
  if (typeof payload['summary'] !== 'string' || payload['summary'].length === 0 || payload['summary'].length > 1024) return 'payload.summary must be 1–1024 characters';
  if (typeof payload['source'] !== 'string' || payload['source'].length === 0) return 'payload.source is required';
  if (typeof payload['severity'] !== 'string' || !SEVERITIES.has(payload['severity'])) return 'payload.severity must be critical, error, warning or info';
  if (payload['timestamp'] !== undefined && (typeof payload['timestamp'] !== 'string' || Number.isNaN(Date.parse(payload['timestamp'])))) return 'payload.timestamp must be ISO 8601';
  return null;
}

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startPageReceiver(opts: { routingKey: string; webhookSecret: string }): Promise<PageReceiver> {
  const pagerDuty: Array<Record<string, unknown>> = [];
  const webhook: Array<Record<string, unknown>> = [];
  const refused: string[] = [];
  let downFor = 0;
  const server: Server = createServer((req, res) => {
    void read(req).then((raw) => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'POST' && req.url === '/v2/enqueue') {
        if (downFor > 0) {
          downFor -= 1;
          return answer(503, { status: 'unavailable' });
        }
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          refused.push('pagerduty: invalid JSON');
          return answer(400, { status: 'invalid event', message: 'invalid JSON' });
        }
        const problem = eventsV2Problem(body, opts.routingKey);
        if (problem) {
          refused.push(`pagerduty: ${problem}`);
          return answer(400, { status: 'invalid event', message: 'Event object is invalid', errors: [problem] });
        }
        pagerDuty.push(body as Record<string, unknown>);
        return answer(202, { status: 'success', message: 'Event processed', dedup_key: (body as Record<string, unknown>)['dedup_key'] });
      }
      if (req.method === 'POST' && req.url === '/hook') {
        const ts = Number(req.headers['x-cutover-timestamp']);
        const sig = String(req.headers['x-cutover-signature'] ?? '');
        const expected = `v1=${createHmac('sha256', opts.webhookSecret).update(`${ts}.${raw}`).digest('hex')}`;
        const fresh = Number.isFinite(ts) && Math.abs(Date.now() / 1000 - ts) < 300;
        if (!fresh || sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
          refused.push('webhook: bad signature or timestamp');
          return answer(401, { ok: false });
        }
        webhook.push(JSON.parse(raw) as Record<string, unknown>);
        return answer(200, { ok: true });
      }
      answer(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    pagerDuty,
    webhook,
    refused,
    down: (times) => {
      downFor = times;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
