/**
 * Proves the fake Slack is faithful: the real WebClient and a real Bolt App
 * accept its answers, and its requests to the bot pass (or fail) Bolt's
 * checks exactly where Slack's would.
 */
import type { Server } from 'node:http';
import { App, type BlockAction, type ButtonAction } from '@slack/bolt';
import { ErrorCode, LogLevel, WebClient, WebClientEvent, type Logger, type WebClientOptions } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN, findButton, startFakeSlack, waitFor, type FakeSlack } from '../support/fake-slack.js';
import { deliver, sendBlockAction, sendSlashCommand } from '../../workspace/signed-requests.js';

/** A logger that keeps what it is told, so tests stay quiet and can still look. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (...msg: unknown[]): void => void lines.push(msg.map(String).join(' '));
  return {
    lines, debug: () => {}, info: keep, warn: keep, error: keep,
    setLevel: () => {}, getLevel: () => LogLevel.INFO, setName: () => {},
  };
}

function clientFor(fake: FakeSlack, overrides: WebClientOptions = {}, token = DEFAULT_TOKEN): WebClient {
  return new WebClient(token, { slackApiUrl: fake.apiUrl, logger: recordingLogger(), retryConfig: { retries: 0 }, ...overrides });
}

const text = (t: string) => ({ type: 'plain_text', text: t });
const button = (over: Record<string, unknown> = {}) => ({ type: 'button', action_id: 'approve', text: text('Approve'), value: 'v', ...over });
const actions = (...elements: unknown[]) => [{ type: 'actions', block_id: 'decide', elements }];
const section = (t: string) => ({ type: 'section', text: { type: 'mrkdwn', text: t } });
const long = (n: number) => 'x'.repeat(n);

describe('fake Slack Web API through the real WebClient', () => {
  let fake: FakeSlack;
  let client: WebClient;
  beforeEach(async () => {
    fake = await startFakeSlack({
      users: { U1: { name: 'alice', real_name: 'Alice Example' } },
      usergroups: { S_DBA: ['U1', 'U2'] },
    });
    client = clientFor(fake);
  });
  afterEach(async () => fake.close());

  it('answers auth.test with the bot identity Bolt caches', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'UBOT', bot_id: expect.any(String), team_id: 'T1' });
    expect(res.url).toBe(`${fake.origin}/`);
  });

  it('refuses a wrong token with invalid_auth and an unknown method with unknown_method', async () => {
    await expect(clientFor(fake, {}, 'xoxb-wrong').auth.test()).rejects.toMatchObject({
      code: ErrorCode.PlatformError, data: { ok: false, error: 'invalid_auth' },
    });
    await expect(client.apiCall('nothing.here')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('accepts JSON bodies with a Bearer header and answers not_authed without any token', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(`${fake.apiUrl}chat.postMessage`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify({ channel: 'C1', text: 'json', blocks: [section('hi')] }) });
    const ok = await call({ Authorization: `Bearer ${DEFAULT_TOKEN}` });
    expect([ok.status, await ok.json()]).toMatchObject([200, { ok: true, message: { text: 'json', blocks: [{ type: 'section' }] } }]);
    expect(await (await call({})).json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('posts top-level messages and thread replies with unique increasing ts', async () => {
    const parent = await client.chat.postMessage({ channel: 'C1', text: 'Cutover started' });
    expect(parent).toMatchObject({ ok: true, channel: 'C1', message: { text: 'Cutover started' } });
    expect(parent.ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply = await client.chat.postMessage({ channel: 'C1', thread_ts: parent.ts, text: 'step 1 done' });
    // Replying to a reply lands in the same thread, as on Slack.
    await client.chat.postMessage({ channel: 'C1', thread_ts: reply.ts, text: 'step 2 done' });
    expect(Number(reply.ts)).toBeGreaterThan(Number(parent.ts));
    expect(fake.threadOf('C1', parent.ts ?? '').map((m) => m.text)).toEqual(['step 1 done', 'step 2 done']);
    expect(fake.messages.inChannel('C1').map((m) => m.text)).toEqual(['Cutover started']);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x', thread_ts: '1.000001' })).rejects.toMatchObject({
      data: { error: 'invalid_thread_ts' },
    });
    await expect(client.chat.postMessage({ channel: 'C1', text: '' })).rejects.toMatchObject({ data: { error: 'no_text' } });
  });

  it('updates a message in place, keeping blocks when none are sent, and knows unknown ts', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'Approve?', blocks: actions(button()) });
    const ts = posted.ts ?? '';
    const updated = await client.chat.update({ channel: 'C1', ts, text: 'Approved by alice' });
    expect(updated).toMatchObject({ ok: true, channel: 'C1', ts, text: 'Approved by alice' });
    const model = fake.messages.get('C1', ts);
    expect(model?.text).toBe('Approved by alice');
    expect(findButton(model, { actionId: 'approve' })).toBeDefined();
    expect(model?.versions.map((v) => v.text)).toEqual(['Approve?', 'Approved by alice']);
    await expect(client.chat.update({ channel: 'C1', ts: '1732190999.000100', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('posts ephemerals per user and needs the user', async () => {
    const res = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you' });
    expect(res.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.ephemeralsFor('U1')).toMatchObject([{ channel: 'C1', text: 'only you', via: 'chat.postEphemeral' }]);
    expect(fake.ephemeralsFor('U2')).toEqual([]);
    await expect(client.apiCall('chat.postEphemeral', { channel: 'C1', text: 'x' })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
  });

  it('opens one deterministic DM per user; posting to a user id lands there too', async () => {
    const a = await client.conversations.open({ users: 'U1' });
    const again = await client.conversations.open({ users: 'U1' });
    const b = await client.conversations.open({ users: 'U2' });
    expect(a.channel?.id).toMatch(/^D/);
    expect(again.channel?.id).toBe(a.channel?.id);
    expect(b.channel?.id).not.toBe(a.channel?.id);
    await client.chat.postMessage({ channel: a.channel?.id ?? '', text: 'approve please' });
    const direct = await client.chat.postMessage({ channel: 'U1', text: 'via user id' });
    expect(direct.channel).toBe(a.channel?.id);
    expect(fake.messages.dmsTo('U1').map((m) => m.text)).toEqual(['approve please', 'via user id']);
  });

  it('answers users.info and usergroups.users.list from the options', async () => {
    const alice = await client.users.info({ user: 'U1' });
    expect(alice.user).toMatchObject({ id: 'U1', name: 'alice', profile: { real_name: 'Alice Example' } });
    await expect(client.users.info({ user: 'U404' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    expect((await client.usergroups.users.list({ usergroup: 'S_DBA' })).users).toEqual(['U1', 'U2']);
    await expect(client.usergroups.users.list({ usergroup: 'S_NONE' })).rejects.toMatchObject({
      data: { error: 'no_such_subteam' },
    });
  });

  it('gives permalinks and records reactions', async () => {
    const { ts = '' } = await client.chat.postMessage({ channel: 'C1', text: 'done' });
    const link = await client.chat.getPermalink({ channel: 'C1', message_ts: ts });
    expect(link.permalink).toContain(`/archives/C1/p${ts.replace('.', '')}`);
    await client.reactions.add({ channel: 'C1', timestamp: ts, name: 'white_check_mark' });
    expect(fake.messages.get('C1', ts)?.reactions).toEqual(['white_check_mark']);
    await expect(client.reactions.add({ channel: 'C1', timestamp: ts, name: 'white_check_mark' })).rejects.toMatchObject({
      data: { error: 'already_reacted' },
    });
  });

  it('runs files.uploadV2 end to end and keeps the bytes', async () => {
    const { ts = '' } = await client.chat.postMessage({ channel: 'C1', text: 'report follows' });
    const csv = 'table,rows\norders,42\n';
    const res = await client.filesUploadV2({
      channel_id: 'C1', thread_ts: ts, content: csv, filename: 'report.csv', title: 'Row counts', initial_comment: 'Row counts',
    });
    const fileId = fake.callsOf('files.getUploadURLExternal').length === 1 ? [...fake.files.keys()][0] : undefined;
    expect(fileId).toBeDefined();
    expect(JSON.stringify(res)).toContain(fileId);
    const stored = fake.files.get(fileId ?? '');
    expect(stored?.bytes?.toString('utf8')).toBe(csv);
    expect(stored).toMatchObject({ filename: 'report.csv', title: 'Row counts', length: Buffer.byteLength(csv), completed: true });
    expect(fake.threadOf('C1', ts)).toMatchObject([{ text: 'Row counts', files: [{ id: fileId }] }]);
    // Uploaded without snippet_type, it is a file (mode "hosted"), not a snippet shown inline.
    expect(res.files[0]?.files?.[0]).toMatchObject({ id: fileId, mode: 'hosted', mimetype: 'text/csv' });
  });

  it('makes a snippet of an upload with snippet_type, and a file of one without', async () => {
    const { ts = '' } = await client.chat.postMessage({ channel: 'C1', text: 'files follow' });
    const res = await client.filesUploadV2({
      channel_id: 'C1', thread_ts: ts, initial_comment: 'Both',
      file_uploads: [
        { content: 'SELECT 1;', filename: 'query.sql', title: 'Query', snippet_type: 'sql' },
        { file: Buffer.from('{"verdict":"green"}'), filename: 'report.json', title: 'Report (JSON)' },
      ],
    });
    expect(res.files[0]?.files).toMatchObject([
      { name: 'query.sql', mode: 'snippet', filetype: 'sql' },
      { name: 'report.json', mode: 'hosted', mimetype: 'application/json' },
    ]);
    const [snippet, file] = fake.threadOf('C1', ts)[0]?.files ?? [];
    expect([snippet?.snippetType, file?.snippetType]).toEqual(['sql', undefined]);
  });

  it('honours 429 Retry-After: the client pauses, retries and succeeds', async () => {
    const paced = clientFor(fake, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } });
    const announced: number[] = [];
    paced.on(WebClientEvent.RATE_LIMITED, (seconds: number) => announced.push(seconds));
    fake.rateLimit('chat.postMessage', 1, 1);
    const started = performance.now();
    const res = await paced.chat.postMessage({ channel: 'C1', text: 'after the pause' });
    // Timers may fire a hair early against performance.now(); 990 ms still proves the 1 s pause.
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(res.ok).toBe(true);
    expect(announced).toEqual([1]);
    expect(fake.callsOf('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(fake.messages.inChannel('C1')).toHaveLength(1);
  });

  it('lets rejectRateLimitedCalls see the Retry-After value', async () => {
    fake.rateLimit('chat.update', 7, 1);
    await expect(clientFor(fake, { rejectRateLimitedCalls: true }).chat.update({ channel: 'C1', ts: '1.1', text: 'x' }))
      .rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it.each([
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), 'invalid_blocks'],
    ['a 151-char header', [{ type: 'header', text: text(long(151)) }], 'invalid_blocks'],
    ['a 3001-char section', [section(long(3001))], 'invalid_blocks'],
    ['a 76-char button label', actions(button({ text: text(long(76)) })), 'invalid_blocks'],
    ['a 2001-char button value', actions(button({ value: long(2001) })), 'invalid_blocks'],
    ['a 101-char confirm title', actions(button({ confirm: { title: text(long(101)), text: text('sure?'), confirm: text('Yes'), deny: text('No') } })), 'invalid_blocks'],
    ['a 301-char confirm text', actions(button({ confirm: { title: text('Sure?'), text: text(long(301)), confirm: text('Yes'), deny: text('No') } })), 'invalid_blocks'],
    ['duplicate action_ids', actions(button(), button()), 'invalid_blocks'],
    ['blocks over 13000 chars of JSON', Array.from({ length: 6 }, () => section(long(2500))), 'msg_blocks_too_long'],
  ])('refuses %s', async (_what, blocks, error) => {
    const logger = recordingLogger();
    await expect(clientFor(fake, { logger }).chat.postMessage({ channel: 'C1', text: 'fallback', blocks })).rejects.toMatchObject({
      data: { ok: false, error },
    });
    expect(fake.messages.all()).toEqual([]);
    // Slack explains invalid_blocks with json-pointers and the client logs them.
    if (error === 'invalid_blocks') expect(logger.lines.join('\n')).toContain('[json-pointer:/blocks');
  });

  it('accepts blocks exactly at the limits', async () => {
    const blocks = [
      { type: 'header', text: text(long(150)) },
      section(long(3000)),
      ...actions(button({ text: text(long(75)), value: long(2000), confirm: { title: text(long(100)), text: text(long(300)), confirm: text('Yes'), deny: text('No') } })),
      ...Array.from({ length: 47 }, () => ({ type: 'divider' })),
    ];
    await expect(client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks })).resolves.toMatchObject({ ok: true });
    const { ts = '' } = await client.chat.postMessage({ channel: 'C1', text: 'small' });
    await expect(client.chat.update({ channel: 'C1', ts, text: 'big', blocks: [section(long(3001))] })).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    expect(fake.messages.get('C1', ts)?.text).toBe('small');
  });

  it('finds messages by text inside blocks and their buttons', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks: [section('*Approve step* `copy orders`?'), ...actions(button({ value: 'run-7' }))] });
    const message = fake.findMessage('copy orders');
    expect(findButton(message, { value: 'run-7' })).toMatchObject({ actionId: 'approve', blockId: 'decide', text: 'Approve' });
    expect(findButton(message, { actionId: 'reject' })).toBeUndefined();
    expect(fake.findMessage('no such text')).toBeUndefined();
  });

  it('sinks response_url posts (5 uses) and shows ephemeral responses to the bound user', async () => {
    const url = fake.responseUrl({ channel: 'C1', user: 'U1' });
    const post = () => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'working on it' }) });
    for (let i = 0; i < 5; i += 1) expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(404);
    expect(fake.responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 404]);
    expect(fake.ephemeralsFor('U1')).toHaveLength(5);
    expect(fake.ephemeralsFor('U1')[0]).toMatchObject({ text: 'working on it', via: 'response_url' });
  });

  it('waitFor resolves with the value once it appears and rejects on timeout', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C9', text: 'late' }), 50);
    await expect(fake.waitFor(() => fake.findMessage('late'))).resolves.toMatchObject({ channel: 'C9' });
    await expect(waitFor(() => false, 100)).rejects.toThrow(/within 100 ms/);
  });
});

describe('a real Bolt App against the fake', () => {
  const secret = 'shhh-signing-secret';
  const logger = recordingLogger();
  const commands: Array<{ text: string; user: string; channel: string; retryNum: number | undefined }> = [];
  const clicks: Array<{ actionId: string; blockId: string; value: string | undefined }> = [];
  let fake: FakeSlack;
  let app: App;
  let botUrl: string;

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({ token: DEFAULT_TOKEN, signingSecret: secret, clientOptions: { slackApiUrl: fake.apiUrl }, port: 0, logger });
    app.command('/migrate', async ({ ack, command, context }) => {
      await ack();
      commands.push({ text: command.text, user: command.user_id, channel: command.channel_id, retryNum: context.retryNum });
    });
    app.action<BlockAction<ButtonAction>>('approve', async ({ ack, action, respond }) => {
      await ack();
      clicks.push({ actionId: action.action_id, blockId: action.block_id, value: action.value });
      await respond({ replace_original: true, text: `Approved ${action.value ?? ''}` });
    });
    const server: Server = await app.start();
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('Bolt is not listening on TCP');
    botUrl = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });
  beforeEach(() => {
    commands.length = 0;
    clicks.length = 0;
  });

  const cmd = { userId: 'U1', channelId: 'C1', text: 'start orders-2024' };

  it('calls auth.test on the fake from the constructor (clientOptions.slackApiUrl reaches Bolt)', async () => {
    // Fired from the constructor without being awaited: start() can resolve before it is answered.
    await fake.waitFor(() => fake.callsOf('auth.test')[0]);
    expect(fake.callsOf('auth.test')).toMatchObject([{ ok: true, status: 200 }]);
  });

  it('accepts a correctly signed slash command', async () => {
    const res = await sendSlashCommand(botUrl, secret, cmd);
    expect(res.status).toBe(200);
    expect(commands).toEqual([{ text: 'start orders-2024', user: 'U1', channel: 'C1', retryNum: undefined }]);
  });

  it.each([
    ['a forged signature', { signature: `v0=${'0'.repeat(64)}` }],
    ['a missing signature header', { omitSignature: true }],
    ['a missing timestamp header', { omitTimestamp: true }],
    ['a timestamp older than 5 minutes', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }],
  ])('refuses %s with 401 and runs no listener', async (_what, opts) => {
    expect((await sendSlashCommand(botUrl, secret, cmd, opts)).status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('accepts a future timestamp (Bolt only refuses stale ones)', async () => {
    const res = await sendSlashCommand(botUrl, secret, cmd, { timestamp: Math.floor(Date.now() / 1000) + 10 * 60 });
    expect(res.status).toBe(200);
    expect(commands).toHaveLength(1);
  });

  it('answers 400 when the form content type carries a charset', async () => {
    const res = await sendSlashCommand(botUrl, secret, cmd, { contentType: 'application/x-www-form-urlencoded; charset=utf-8' });
    expect(res.status).toBe(400);
    expect(commands).toEqual([]);
  });

  it('runs the listener again on a retried delivery, exposing retryNum (Bolt does not deduplicate)', async () => {
    const first = await sendSlashCommand(botUrl, secret, cmd);
    const retry = await deliver(botUrl, secret, first.sent.rawBody, { retryNum: 1 });
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(commands.map((c) => c.retryNum)).toEqual([undefined, 1]);
  });

  it('delivers a signed block_action to app.action, whose respond() replaces the message', async () => {
    const posted = await app.client.chat.postMessage({ channel: 'C1', text: 'Approve?', blocks: actions(button({ value: 'run-7' })) });
    const ts = posted.ts ?? '';
    const found = findButton(fake.findMessage('Approve?'), { actionId: 'approve' });
    if (!found?.actionId || !found.blockId || found.value === undefined) throw new Error('button not found');
    const res = await sendBlockAction(botUrl, secret, {
      userId: 'U1', channelId: 'C1', messageTs: ts, actionId: found.actionId, blockId: found.blockId, value: found.value,
      responseUrl: fake.responseUrl({ channel: 'C1', user: 'U1', messageTs: ts }),
    });
    expect(res.status).toBe(200);
    expect(clicks).toEqual([{ actionId: 'approve', blockId: 'decide', value: 'run-7' }]);
    await fake.waitFor(() => fake.messages.get('C1', ts)?.text === 'Approved run-7');
    // replace_original swaps the whole message, so the button is gone.
    expect(findButton(fake.messages.get('C1', ts), { actionId: 'approve' })).toBeUndefined();
  });

  it('resends a block_action byte for byte when actionTs and triggerId are pinned (a Slack retry)', async () => {
    const click = { userId: 'U1', channelId: 'C1', messageTs: '1732190000.000100', actionId: 'approve', blockId: 'decide', value: 'again' };
    const pinned = { actionTs: '1732190500.123456', triggerId: '42.42.pinned' };
    const first = await sendBlockAction(botUrl, secret, click, pinned);
    const retry = await sendBlockAction(botUrl, secret, click, { ...pinned, retryNum: 1 });
    expect(retry.sent.rawBody).toBe(first.sent.rawBody);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(clicks.map((c) => c.value)).toEqual(['again', 'again']);
  });

  it('refuses a block_action with a forged signature', async () => {
    const res = await sendBlockAction(
      botUrl, secret,
      { userId: 'U1', channelId: 'C1', messageTs: '1732190000.000100', actionId: 'approve', blockId: 'decide', value: 'x' },
      { signature: 'v0=deadbeef' },
    );
    expect(res.status).toBe(401);
    expect(clicks).toEqual([]);
  });
});
