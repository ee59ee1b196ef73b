import type { IncomingMessage, ServerResponse } from 'node:http';
import { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Env } from '../config/env.js';
import { serveMetrics } from '../config/metrics-server.js';
import { boltLogger } from './bolt-logger.js';
import { EventLoopDelay } from './event-loop-delay.js';
import { meteredFetch } from './slack-metrics.js';

/**
 * The Bolt app over HTTP (POST /slack/events on PORT) or Socket Mode when
 * SLACK_APP_TOKEN is set. Only wiring lives here; listeners register themselves.
 * GET /healthz and GET /metrics are custom routes: in Socket Mode Bolt serves
 * them from its own HTTP server, on the same PORT.
 */
export function createBoltApp(env: Env, log: Logger, health: () => Promise<{ ok: boolean; detail: string }>): App {
  const socketMode = Boolean(env.SLACK_APP_TOKEN);
  // Test builds only: the responsiveness bench reads web's event-loop delay here (bench/web-responsiveness.ts).
  const loopDelay = process.env.NODE_ENV === 'test' ? new EventLoopDelay() : null;
  return new App({
    token: env.SLACK_BOT_TOKEN,
    signingSecret: env.SLACK_SIGNING_SECRET ?? 'unused-in-socket-mode',
    socketMode,
    ...(socketMode ? { appToken: env.SLACK_APP_TOKEN } : {}),
    port: env.PORT,
    logger: boltLogger(log.child({ component: 'bolt' })),
    clientOptions: { slackApiUrl: env.SLACK_API_URL, fetch: meteredFetch(env.SLACK_API_URL) },
    customRoutes: [
      ...(loopDelay ? [{ path: '/debug/event-loop', method: ['GET'], handler: (req: IncomingMessage, res: ServerResponse) => loopDelay.serve(req, res) }] : []),
      { path: '/metrics', method: ['GET'], handler: (req, res) => serveMetrics(req, res, env.METRICS_TOKEN) },
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req, res) => {
          void health().then(
            (h) => {
              res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
              res.end(JSON.stringify(h));
            },
            (err: unknown) => {
              res.writeHead(503, { 'content-type': 'application/json' });
              res.end(JSON.stringify({ ok: false, detail: String(err) }));
            },
          );
        },
      },
    ],
  });
}
