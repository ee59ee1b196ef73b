/**
 * The Slack metrics through the real WebClient with the metered fetch web
 * gives Bolt (clientOptions.fetch), against the fake Slack's real HTTP
 * answers: 429 with Retry-After, ok:false codes, HTTP errors, no answer.
 */
import { LogLevel, WebClient, type Logger, type WebClientOptions } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registry } from '../../config/metrics.js';
import { meteredFetch, methodOf } from '../../bot/slack-metrics.js';
import { DEFAULT_TOKEN, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { parseExposition, type Exposition } from '../support/prometheus.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, setLevel: () => {}, getLevel: () => LogLevel.ERROR, setName: () => {} };
let fake: FakeSlack;

function metered(overrides: WebClientOptions = {}, token = DEFAULT_TOKEN, apiUrl = fake.apiUrl): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, logger: quiet, retryConfig: { retries: 0 }, fetch: meteredFetch(apiUrl), ...overrides });
}

const read = async (): Promise<Exposition> => parseExposition(await registry.metrics());

beforeAll(async () => {
  fake = await startFakeSlack();
});
afterAll(async () => fake?.close());
beforeEach(() => registry.resetMetrics());

describe('Slack API metrics (cutover_slack_*)', () => {
  it('counts a 429 and the Retry-After the client then waits, and no error when the retry succeeds', async () => {
    fake.rateLimit('chat.postMessage', 1, 1);
    const started = performance.now();
    const res = await metered({ retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } }).chat.postMessage({ channel: 'C1', text: 'after the pause' });
    expect(res.ok).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    const m = await read();
    expect(m.value('cutover_slack_rate_limited_total', { method: 'chat.postMessage' })).toBe(1);
    expect(m.value('cutover_slack_rate_limit_wait_seconds_total', { method: 'chat.postMessage' })).toBe(1);
    expect(m.value('cutover_slack_api_calls_total', { method: 'chat.postMessage' })).toBe(2);
    expect(m.value('cutover_slack_api_errors_total')).toBeUndefined();
  });

  it('counts several 429s of one method with their waits added up', async () => {
    fake.rateLimit('chat.update', 1, 2);
    const posted = await metered().chat.postMessage({ channel: 'C1', text: 'to edit' });
    await metered({ retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 20 } }).chat.update({ channel: 'C1', ts: posted.ts ?? '', text: 'edited' });
    const m = await read();
    expect(m.value('cutover_slack_rate_limited_total', { method: 'chat.update' })).toBe(2);
    expect(m.value('cutover_slack_rate_limit_wait_seconds_total', { method: 'chat.update' })).toBe(2);
  }, 10_000);

  it("counts Slack's error codes by method (ok: false answers), leaving the client's own error handling alone", async () => {
    await expect(metered({}, 'xoxb-wrong').auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    await expect(metered().apiCall('nothing.here')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    const m = await read();
    expect(m.value('cutover_slack_api_errors_total', { method: 'auth.test', error: 'invalid_auth' })).toBe(1);
    expect(m.value('cutover_slack_api_errors_total', { method: 'nothing.here', error: 'unknown_method' })).toBe(1);
  });

  it('counts a Slack that does not answer as request_failed', async () => {
    const gone = await startFakeSlack();
    const url = gone.apiUrl;
    await gone.close();
    await expect(metered({}, DEFAULT_TOKEN, url).auth.test()).rejects.toMatchObject({ code: 'slack_webapi_request_error' });
    expect((await read()).value('cutover_slack_api_errors_total', { method: 'auth.test', error: 'request_failed' })).toBe(1);
  });
});

describe('meteredFetch on answers the fake never gives', () => {
  const API = 'https://slack.example/api/';
  const answering = (res: Response): typeof fetch => async () => res;

  it('labels HTTP errors http_<status>, and a body that is no JSON invalid_response, never with the body text', async () => {
    await meteredFetch(API, answering(new Response('<html>bad gateway</html>', { status: 502 })))(`${API}chat.postMessage`);
    await meteredFetch(API, answering(new Response('{"ok":fals', { status: 200, headers: { 'content-type': 'application/json' } })))(`${API}chat.update`);
    await meteredFetch(API, answering(Response.json({ ok: false, error: 'Something <b>odd</b> happened' })))(`${API}users.info`);
    const m = await read();
    expect(m.value('cutover_slack_api_errors_total', { method: 'chat.postMessage', error: 'http_502' })).toBe(1);
    expect(m.value('cutover_slack_api_errors_total', { method: 'chat.update', error: 'invalid_response' })).toBe(1);
    expect(m.value('cutover_slack_api_errors_total', { method: 'users.info', error: 'unrecognised' })).toBe(1);
  });

  it('hands the response back with its body unread, so the WebClient still parses it', async () => {
    const res = await meteredFetch(API, answering(Response.json({ ok: false, error: 'channel_not_found' })))(`${API}chat.postMessage`);
    expect(await res.text()).toBe('{"ok":false,"error":"channel_not_found"}');
  });

  it('names the method from the URL, and keeps upload URLs, response URLs and odd paths out of the label values', () => {
    expect(methodOf(`${API}chat.postMessage`, API)).toBe('chat.postMessage');
    expect(methodOf('https://files.slack.com/upload/v1/ABC123', API)).toBe('upload');
    expect(methodOf('https://hooks.slack.com/actions/T1/123/abcDEF', API)).toBe('response_url');
    expect(methodOf(`${API}U0123/../x`, API)).toBe('other');
  });
});
