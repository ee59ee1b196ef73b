/**
 * Slack at its HTTP boundary for end-to-end tests: the product's own
 * Slack-compatible workspace API (workspace/slack-api.ts, also what `npm
 * start` runs locally) on a free port of 127.0.0.1, plus what tests want to
 * look at. Point the bot at it with
 * `new App({ …, clientOptions: { slackApiUrl: fake.apiUrl } })`.
 */
import { createSlackApi, type ApiCall, type ResponsePost, type ResponseUrlBinding, type SlackApiOptions } from '../../workspace/slack-api.js';
import type { EphemeralMessage, MessageFilter, UploadedFile, WorkspaceMessage, WorkspaceMessages } from '../../workspace/messages.js';
import { listen } from '../../workspace/server.js';
import type { StoredView, WorkspaceViews } from '../../workspace/views.js';

export { findButton, buttonsIn } from '../../workspace/blocks.js';
export type { UploadedFile as FakeFile, WorkspaceMessage as FakeMessage, MessageFilter } from '../../workspace/messages.js';
export type { ResponseUrlBinding } from '../../workspace/slack-api.js';

/** The workspace API's options, all optional (the token defaults to DEFAULT_TOKEN), and a port. */
export type FakeSlackOptions = Partial<SlackApiOptions> & { port?: number };

export interface FakeSlack {
  /** `http://127.0.0.1:PORT/api/` — the `slackApiUrl` to give the client. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly botUserId: string;
  readonly calls: ApiCall[];
  readonly messages: WorkspaceMessages;
  readonly files: ReadonlyMap<string, UploadedFile>;
  readonly responses: ResponsePost[];
  /** App Home tabs and open modals, per person. */
  readonly views: WorkspaceViews;
  /** The Home tab last published for this person. */
  homeOf(user: string): StoredView | undefined;
  /** The modal on top of this person's stack. */
  modalOf(user: string): StoredView | undefined;
  callsOf(method: string): ApiCall[];
  threadOf(channel: string, ts: string): WorkspaceMessage[];
  ephemeralsFor(user: string): EphemeralMessage[];
  /** The latest live message whose text or blocks contain `substring`. */
  findMessage(substring: string, filter?: MessageFilter): WorkspaceMessage | undefined;
  /** A fresh response_url on this fake; posts to it are recorded and applied to the binding. */
  responseUrl(binding?: ResponseUrlBinding): string;
  waitFor<T>(fn: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** The next `times` calls of `method` answer HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN = 'xoxb-fake';

/** Polls `fn` until it returns something other than undefined/false/null; a throw counts as "not yet". */
export async function waitFor<T>(fn: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = fn();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${why}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Starts the fake on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const api = createSlackApi({ ...options, token: options.token ?? DEFAULT_TOKEN });
  const http = await listen([api.handle], { port: options.port ?? 0, onError: (e) => console.error('fake-slack: handler crashed', e) });
  api.state.origin = http.origin;
  const { messages, files } = api.state;
  return {
    apiUrl: `${http.origin}/api/`,
    origin: http.origin,
    botUserId: api.state.botUserId,
    calls: api.calls,
    messages,
    files,
    responses: api.responses,
    views: api.state.views,
    homeOf: (user) => api.state.views.home(user),
    modalOf: (user) => api.state.views.modal(user),
    callsOf: (method) => api.calls.filter((c) => c.method === method),
    threadOf: (channel, ts) => messages.threadOf(channel, ts),
    ephemeralsFor: (user) => messages.ephemeralsFor(user),
    findMessage: (substring, filter) => messages.find(substring, filter),
    responseUrl: (binding) => api.responseUrl(binding),
    waitFor,
    rateLimit: (method, seconds, times) => api.rateLimit(method, seconds, times),
    close: () => http.close(),
  };
}
