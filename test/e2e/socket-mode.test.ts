import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInstallation, eventually, type Installation } from '../support/cutover-processes.js';
import { CHANNEL, ephemeralTexts } from '../support/cutover-slack.js';
import { markerRunbook } from '../support/e2e-runbooks.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { startFakeSocketMode, type FakeSocketMode } from '../support/fake-socket-mode.js';
import { scrape } from '../support/prometheus.js';

const APP_TOKEN = 'xapp-1-fake';
let fake: FakeSlack;
let socket: FakeSocketMode;
let inst: Installation;

beforeAll(async () => {
  socket = await startFakeSocketMode();
  fake = await startFakeSlack({ appToken: APP_TOKEN, socketModeUrl: socket.url });
  inst = await createInstallation(fake.apiUrl, { sm: markerRunbook(`e2e_sm_${process.pid}`) });
  // Socket Mode: no signing secret, no public URL; Slack talks over the WebSocket the app opens.
  delete inst.env.SLACK_SIGNING_SECRET;
  inst.env.SLACK_APP_TOKEN = APP_TOKEN;
  await inst.startWeb();
  await socket.connected();
}, 60_000);

afterAll(async () => {
  await inst?.cleanup();
  await socket?.close();
  await fake?.close();
});

describe('Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('opens the connection with the app token, acks a slash command envelope and answers it', async () => {
    expect(fake.calls.some((c) => c.method === 'apps.connections.open' && c.ok)).toBe(true);
    const id = socket.send('slash_commands', {
      token: 'x', team_id: 'T1', team_domain: 'fake', channel_id: CHANNEL, channel_name: 'cutover', user_id: 'U0DBA1', user_name: 'dba1',
      command: '/migrate', text: 'runbooks', response_url: 'http://127.0.0.1:1/none', trigger_id: 'trig-sm-1', api_app_id: 'A1',
    });
    await eventually(async () => socket.acks.some((a) => a.envelope_id === id), 10_000, 'ack of the envelope');
    const listed = await fake.waitFor(() => ephemeralTexts(fake, 'U0DBA1').find((t) => t.includes('`sm`')));
    expect(listed).toContain('E2E cutover');
  });

  it('still serves GET /healthz and GET /metrics on PORT (Bolt runs an HTTP server for custom routes)', async () => {
    expect((await fetch(`${inst.botUrl}/healthz`)).status).toBe(200);
    const m = await scrape(inst.botUrl);
    expect(m.family('cutover_runs')?.type).toBe('gauge');
    // Bolt verified its token at start through the metered client.
    expect(m.count('cutover_slack_api_calls_total', { method: 'auth.test' })).toBeGreaterThan(0);
  });
});
