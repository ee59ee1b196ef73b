/**
 * The local workspace's own endpoints against a real Bolt App: what the page
 * sends (a slash command, a click) reaches the bot signed and shaped as Slack
 * sends it — Bolt verifies and parses it — with the button value read from
 * the stored message, Slack's 3 s deadline and retry headers, and answers
 * shown only to the person they are for.
 */
import type { Server } from 'node:http';
import { App, type BlockAction, type ButtonAction, type StaticSelectAction } from '@slack/bolt';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLevel, WebClient, type Logger } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalWorkspace, type LocalWorkspace } from '../../workspace/local-workspace.js';
import type { ConversationView, MessageView } from '../../workspace/view.js';
import { waitFor } from '../support/fake-slack.js';

const TOKEN = 'xoxb-fake';
const SECRET = 'local-signing-secret-0123456789';
const CHANNEL = 'C0CUTOVER';
const people = [
  { id: 'U0LEAD', name: 'lead', realName: 'Lena Lead', roles: ['demo: Migration lead'] },
  { id: 'U0DBA', name: 'dba', realName: 'Dirk DBA', roles: ['demo: Database administrator'] },
  { id: 'U0OUTSIDER', name: 'outsider', realName: 'Olli Outsider', roles: [], outsider: true },
];

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, setLevel: () => {}, getLevel: () => LogLevel.ERROR, setName: () => {} };

describe('local workspace ↔ a real Bolt app', () => {
  let workspace: LocalWorkspace;
  let app: App;
  const commands: Array<{ text: string; user: string; channel: string; retryNum: number | undefined; retryReason: string | undefined }> = [];
  const clicks: Array<{ user: string; value: string | undefined; blockId: string; container: unknown }> = [];
  const selections: Array<{ user: string; blockId: string; option: unknown }> = [];
  let slowUntil = 0;

  const post = (path: string, body: unknown) =>
    fetch(`${workspace.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const view = async (as: string): Promise<ConversationView[]> =>
    ((await (await fetch(`${workspace.origin}/local/view?as=${as}`)).json()) as { conversations: ConversationView[] }).conversations;
  const channelOf = async (as: string): Promise<MessageView[]> => (await view(as)).find((c) => c.id === CHANNEL)?.messages ?? [];

  beforeAll(async () => {
    workspace = await startLocalWorkspace({
      port: 0,
      token: TOKEN,
      people,
      about: { durable: false, state: 'in-process memory', database: 'none', runbooks: ['demo'] },
      delivery: { timeoutMs: 500, retryDelaysMs: [0, 50] },
    });
    app = new App({ token: TOKEN, signingSecret: SECRET, clientOptions: { slackApiUrl: workspace.apiUrl }, port: 0, logger: quiet });
    app.command('/migrate', async ({ ack, command, context, respond }) => {
      if (Date.now() < slowUntil) await new Promise((r) => setTimeout(r, 800)); // past the workspace's 500 ms deadline
      await ack();
      commands.push({ text: command.text, user: command.user_id, channel: command.channel_id, retryNum: context.retryNum, retryReason: context.retryReason });
      await respond({ text: `only for <@${command.user_id}>: ${command.text}` });
    });
    app.action<BlockAction<StaticSelectAction>>('followup.snooze_for', async ({ ack, action, body }) => {
      await ack();
      selections.push({ user: body.user.id, blockId: action.block_id, option: action.selected_option });
    });
    app.action<BlockAction<ButtonAction>>('step.approve', async ({ ack, action, body, respond }) => {
      await ack();
      clicks.push({ user: body.user.id, value: action.value, blockId: action.block_id, container: body.container });
      await respond({ replace_original: true, text: `Approved by <@${body.user.id}>` });
    });
    const server = (await app.start()) as Server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('Bolt is not listening on TCP');
    workspace.connectBot({ url: `http://127.0.0.1:${address.port}`, signingSecret: SECRET });
  });

  afterAll(async () => {
    await app.stop();
    await workspace.close();
  });

  beforeEach(() => {
    commands.length = 0;
    clicks.length = 0;
    selections.length = 0;
  });

  it('sends a signed /migrate that Bolt accepts; the response is seen only by the person who typed it', async () => {
    const res = await post('/local/command', { as: 'U0DBA', channel: CHANNEL, text: '/migrate status' });
    expect(await res.json()).toEqual({ ok: true });
    expect(commands).toEqual([{ text: 'status', user: 'U0DBA', channel: CHANNEL, retryNum: undefined, retryReason: undefined }]);
    const mine = await waitForAsync(async () => (await channelOf('U0DBA')).find((m) => m.ephemeral && m.text.includes('only for <@U0DBA>: status')));
    expect(mine.ephemeral).toBe(true);
    expect((await channelOf('U0LEAD')).some((m) => m.text.includes('only for <@U0DBA>'))).toBe(false);
  });

  it('clicks the stored button: Bolt gets the value the bot posted, a block id, and the response replaces the message', async () => {
    const posted = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: 'Approve step?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*Load districts* waits for approval' } },
        { type: 'actions', elements: [{ type: 'button', action_id: 'step.approve', text: { type: 'plain_text', text: 'Approve' }, value: '{"r":"run-1","s":"load"}', style: 'primary' }] },
      ],
    });
    const ts = posted.ts ?? '';
    const res = await post('/local/action', { as: 'U0LEAD', channel: CHANNEL, ts, block: 1, actionId: 'step.approve' });
    expect(await res.json()).toEqual({ ok: true });
    expect(clicks).toEqual([{ user: 'U0LEAD', value: '{"r":"run-1","s":"load"}', blockId: 'b1', container: expect.objectContaining({ message_ts: ts, is_ephemeral: false }) }]);
    await waitForAsync(async () => (await channelOf('U0DBA')).find((m) => m.ts === ts && m.text === 'Approved by <@U0LEAD>'));
  });

  it('sends a choice in a static_select as Slack does: the chosen option, checked against the message', async () => {
    const posted = await app.client.chat.postMessage({
      channel: CHANNEL,
      text: 'Follow-up due',
      blocks: [{
        type: 'actions',
        block_id: 'followup:backup:1',
        elements: [{
          type: 'static_select', action_id: 'followup.snooze_for', placeholder: { type: 'plain_text', text: 'Snooze for…' },
          options: [{ text: { type: 'plain_text', text: 'Snooze 1 h' }, value: 'v-3600' }, { text: { type: 'plain_text', text: 'Snooze 1 day' }, value: 'v-86400' }],
        }],
      }],
    });
    const ts = posted.ts ?? '';
    const chosen = await post('/local/action', { as: 'U0DBA', channel: CHANNEL, ts, block: 0, actionId: 'followup.snooze_for', selected: 'v-86400' });
    expect(await chosen.json()).toEqual({ ok: true });
    expect(selections).toEqual([{ user: 'U0DBA', blockId: 'followup:backup:1', option: { text: { type: 'plain_text', text: 'Snooze 1 day', emoji: true }, value: 'v-86400' } }]);
    const forged = await post('/local/action', { as: 'U0DBA', channel: CHANNEL, ts, block: 0, actionId: 'followup.snooze_for', selected: 'v-1' });
    expect([forged.status, await forged.json()]).toEqual([404, { ok: false, error: 'option_not_found' }]);
    expect(selections).toHaveLength(1);
  });

  it('refuses a click on a button the message does not have, and a person the workspace does not know', async () => {
    const posted = await app.client.chat.postMessage({ channel: CHANNEL, text: 'no buttons here' });
    const missing = await post('/local/action', { as: 'U0LEAD', channel: CHANNEL, ts: posted.ts, block: 0, actionId: 'step.approve' });
    expect([missing.status, await missing.json()]).toEqual([404, { ok: false, error: 'button_not_found' }]);
    const stranger = await post('/local/command', { as: 'U0NOBODY', channel: CHANNEL, text: '/migrate help' });
    expect(stranger.status).toBe(400);
    const garbage = await fetch(`${workspace.origin}/local/command`, { method: 'POST', body: '{not json' });
    expect(garbage.status).toBe(400);
    expect(clicks).toEqual([]);
    expect(commands).toEqual([]);
  });

  it('posts plain text as the person, and answers an unknown slash command itself', async () => {
    await post('/local/command', { as: 'U0LEAD', channel: CHANNEL, text: 'ready when you are' });
    await post('/local/command', { as: 'U0LEAD', channel: CHANNEL, text: '/deploy now' });
    const lead = await channelOf('U0LEAD');
    expect(lead.find((m) => m.text === 'ready when you are')).toMatchObject({ user: 'U0LEAD', ephemeral: false });
    expect(lead.find((m) => m.ephemeral && m.text.includes('/deploy is not a valid command'))).toBeDefined();
    expect(commands).toEqual([]);
  });

  it('gives up after Slack\'s deadline, tells the person, and retries with X-Slack-Retry-Num', async () => {
    slowUntil = Date.now() + 700;
    const res = await post('/local/command', { as: 'U0OUTSIDER', channel: CHANNEL, text: '/migrate start demo' });
    expect(await res.json()).toMatchObject({ ok: false, error: 'operation_timeout' });
    await waitFor(() => commands.find((c) => c.retryNum === 1));
    expect(commands.find((c) => c.retryNum === 1)).toMatchObject({ text: 'start demo', retryReason: 'http_timeout' });
    const notices = (await channelOf('U0OUTSIDER')).filter((m) => m.ephemeral && m.user === 'USLACKBOT');
    expect(notices.map((m) => m.text).join('\n')).toContain('/migrate failed with the error "operation_timeout"');
  });

  it('serves an uploaded file with its type, and announces changes on the event stream', async () => {
    const events = await fetch(`${workspace.origin}/local/events`);
    const reader = events.body?.getReader();
    if (!reader) throw new Error('no event stream');
    await reader.read(); // the current version, sent at once
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const { ts = '' } = await app.client.chat.postMessage({ channel: CHANNEL, text: 'report follows' });
    const next = await reader.read();
    expect(new TextDecoder().decode(next.value)).toMatch(/^event: change\ndata: \d+/);
    await reader.cancel();
    await app.client.filesUploadV2({ channel_id: CHANNEL, thread_ts: ts, file: png, filename: 'run-timeline.png', title: 'Timeline' });
    const parent = await waitForAsync(async () => (await channelOf('U0DBA')).find((m) => m.ts === ts && m.replies.some((r) => r.files.length > 0)));
    const file = parent.replies.flatMap((r) => r.files)[0];
    expect(file).toMatchObject({ name: 'run-timeline.png', title: 'Timeline', kind: 'image' });
    const served = await fetch(file?.url ?? '');
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(png);
  });

  it('serves the page and its assets', async () => {
    const page = await fetch(`${workspace.origin}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/assets/app.js');
    for (const asset of ['app.js', 'blocks.js', 'mrkdwn.js', 'style.css']) expect((await fetch(`${workspace.origin}/assets/${asset}`)).status).toBe(200);
    const info = (await (await fetch(`${workspace.origin}/local/info`)).json()) as { people: unknown[]; about: { durable: boolean } };
    expect(info).toMatchObject({ people, about: { durable: false } });
  });
});

describe('local workspace kept in a folder (local mode on Redis)', () => {
  it('finds its messages and files again after a restart, and hands out later ts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-workspace-'));
    const options = { port: 0, token: TOKEN, people, about: { durable: true, state: 'Redis', database: 'none', runbooks: [] }, storeDir: dir };
    try {
      const first = await startLocalWorkspace(options);
      const client = new WebClient(TOKEN, { slackApiUrl: first.apiUrl, logger: quiet, retryConfig: { retries: 0 } });
      const root = await client.chat.postMessage({ channel: CHANNEL, text: 'Run root' });
      await client.chat.update({ channel: CHANNEL, ts: root.ts ?? '', text: 'Run root, edited' });
      await client.filesUploadV2({ channel_id: CHANNEL, thread_ts: root.ts ?? '', content: '# Report', filename: 'run-report.md', title: 'Report' });
      await client.filesUploadV2({ channel_id: CHANNEL, thread_ts: root.ts ?? '', content: '{"verdict":"green"}', filename: 'run-report.json', title: 'Report (JSON)' });
      await first.close();

      const second = await startLocalWorkspace(options);
      try {
        const again = new WebClient(TOKEN, { slackApiUrl: second.apiUrl, logger: quiet, retryConfig: { retries: 0 } });
        // The bot edits the messages of its runs by ts after a restart: they must still be there.
        await again.chat.update({ channel: CHANNEL, ts: root.ts ?? '', text: 'Run root, after restart' });
        const later = await again.chat.postMessage({ channel: CHANNEL, text: 'after' });
        expect(Number(later.ts)).toBeGreaterThan(Number(root.ts));
        const conversations = ((await (await fetch(`${second.origin}/local/view?as=U0LEAD`)).json()) as { conversations: ConversationView[] }).conversations;
        const restored = conversations.find((c) => c.id === CHANNEL)?.messages.find((m) => m.ts === root.ts);
        expect(restored).toMatchObject({ text: 'Run root, after restart', edited: true });
        // Many edits keep the original and the newest versions only (a run's root is edited for hours).
        for (let i = 0; i < 20; i += 1) await again.chat.update({ channel: CHANNEL, ts: root.ts ?? '', text: `edit ${i}` });
        const versions = second.api.state.messages.get(CHANNEL, root.ts ?? '')?.versions.map((v) => v.text);
        expect(versions).toEqual(['Run root', 'edit 16', 'edit 17', 'edit 18', 'edit 19']);
        const [file, json] = restored?.replies.flatMap((r) => r.files) ?? [];
        expect(file).toMatchObject({ name: 'run-report.md', kind: 'text' });
        // A data file is a card to open or download, never shown inline (as Slack shows an uploaded file, not a snippet).
        expect(json).toMatchObject({ name: 'run-report.json', kind: 'other' });
        expect(await (await fetch(file?.url ?? '')).text()).toBe('# Report');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function waitForAsync<T>(fn: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
