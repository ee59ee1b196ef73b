import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { registry } from './metrics.js';

/** Digest both sides so the comparison takes the same time whatever the lengths. */
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** True when no token is configured, or the request carries `Authorization: Bearer <token>`. */
export function authorized(header: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * GET /metrics: this process's registry in the Prometheus text format. Used
 * as Bolt's custom route on web and by the worker's own server. Never throws:
 * a failing collector becomes a 500 with its message.
 */
export function serveMetrics(req: IncomingMessage, res: ServerResponse, token: string | undefined): void {
  if (!authorized(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' });
    res.end('metrics need Authorization: Bearer <METRICS_TOKEN>\n');
    return;
  }
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  );
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's HTTP server (it has no other): GET /metrics and GET /healthz.
 * Listens on every interface, as Prometheus scrapes from elsewhere; set
 * METRICS_TOKEN when the port is reachable by more than the scraper.
 */
export async function startMetricsServer(o: {
  port: number;
  token?: string;
  log: Logger;
  health: () => Promise<{ ok: boolean; detail: string }>;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      serveMetrics(req, res, o.token);
    } else if (path === '/healthz') {
      void o.health().then(
        (h) => res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h)),
        (err: unknown) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, detail: String(err) })),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address: AddressInfo | string | null = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.port;
  o.log.info({ port }, 'metrics at GET /metrics');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
