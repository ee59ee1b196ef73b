import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { authorized, startMetricsServer, type MetricsServer } from '../../config/metrics-server.js';
import { scrape } from '../support/prometheus.js';

const TOKEN = 'metrics-token-0123456789';
let server: MetricsServer | null = null;
const log = pino({ level: 'silent' });
const origin = (): string => `http://127.0.0.1:${server?.port}`;

afterEach(async () => {
  await server?.close();
  server = null;
});

describe("the worker's metrics server", () => {
  it('serves /metrics in the Prometheus text format and /healthz from its health check, and nothing else', async () => {
    let healthy = true;
    server = await startMetricsServer({ port: 0, log, health: async () => ({ ok: healthy, detail: healthy ? 'redis ok' : 'redis answered LOADING' }) });
    const m = await scrape(origin());
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(await (await fetch(`${origin()}/healthz`)).json()).toEqual({ ok: true, detail: 'redis ok' });
    healthy = false;
    expect((await fetch(`${origin()}/healthz`)).status).toBe(503);
    expect((await fetch(`${origin()}/slack/events`)).status).toBe(404);
    expect((await fetch(`${origin()}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('with METRICS_TOKEN, answers 401 without the bearer token or with a wrong one', async () => {
    server = await startMetricsServer({ port: 0, log, token: TOKEN, health: async () => ({ ok: true, detail: 'ok' }) });
    const missing = await fetch(`${origin()}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${origin()}/metrics`, { headers: { authorization: 'Bearer metrics-token-wrong-0000' } })).status).toBe(401);
    expect((await scrape(origin(), TOKEN)).value('nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
  });

  it('fails to start, rather than serving nowhere, when its port is taken', async () => {
    server = await startMetricsServer({ port: 0, log, health: async () => ({ ok: true, detail: 'ok' }) });
    await expect(startMetricsServer({ port: server.port, log, health: async () => ({ ok: true, detail: 'ok' }) })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('authorized', () => {
  it('lets everything through without a token, and only the exact bearer token with one', () => {
    expect(authorized(undefined, undefined)).toBe(true);
    expect(authorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(authorized(`bearer  ${TOKEN}`, TOKEN)).toBe(true);
    expect(authorized(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(authorized(TOKEN, TOKEN)).toBe(false);
    expect(authorized(undefined, TOKEN)).toBe(false);
  });
});
