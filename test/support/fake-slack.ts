/**
 * A fake Slack at its HTTP boundary for end-to-end tests: a node:http server
 * on 127.0.0.1 that answers the Web API the way slack.com does (see
 * shared/reference/slack-notes.md), remembers what the bot posted, and sinks
 * response_url posts. Point the bot at it with
 * `new App({ …, clientOptions: { slackApiUrl: fake.apiUrl } })`.
 *
 * Routes: `POST|GET /api/<method>`, `POST /upload/<fileId>` (the upload_url of
 * files.getUploadURLExternal), `POST /response/<id>` (see `responseUrl()`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkBlocksArg, isRecord } from './fake-slack-blocks.js';
import { bearer, decodeBody, readBody, safeJson, send, truthy, waitFor } from './fake-slack-http.js';
import { acceptUpload, METHODS, type Answer, type Args, type FakeSlackState, type FakeUser } from './fake-slack-methods.js';
import {
  FakeSlackMessages, type FakeEphemeral, type FakeFile, type FakeMessage, type MessageFilter,
} from './fake-slack-store.js';

export { findButton, buttonsIn, type FoundButton, type ButtonQuery } from './fake-slack-blocks.js';
export { dmChannelOf, searchableText } from './fake-slack-store.js';
export { waitFor } from './fake-slack-http.js';
export type { FakeEphemeral, FakeFile, FakeMessage, FakeMessageVersion, MessageFilter } from './fake-slack-store.js';
export type { FakeUser } from './fake-slack-methods.js';

export interface FakeSlackOptions {
  token?: string;
  port?: number;
  botUserId?: string;
  usergroups?: Record<string, string[]>;
  users?: Record<string, FakeUser>;
  /** Socket Mode: the app-level token apps.connections.open requires, and the WebSocket URL it hands out. */
  appToken?: string;
  socketModeUrl?: string;
}

/** One Web API request as the fake received and answered it. */
export interface FakeCall {
  method: string;
  /** Decoded arguments (form values are strings; `blocks` stays JSON text), without `token`. */
  args: Args;
  at: number;
  /** HTTP status sent: 200, or 429 when rate limited. */
  status: number;
  ok: boolean;
  error: string | undefined;
}

/** One POST to a response_url. */
export interface FakeResponsePost {
  id: string;
  body: unknown;
  at: number;
  status: number;
}

/** Where a response_url's posts land in the model (all optional). */
export interface ResponseUrlBinding {
  channel?: string;
  /** Who sees ephemeral responses. */
  user?: string;
  /** The message `replace_original` / `delete_original` act on. */
  messageTs?: string;
}

export interface FakeSlack {
  /** `http://127.0.0.1:PORT/api/` — the `slackApiUrl` to give the client. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly botUserId: string;
  readonly calls: FakeCall[];
  readonly messages: FakeSlackMessages;
  readonly files: ReadonlyMap<string, FakeFile>;
  readonly responses: FakeResponsePost[];
  callsOf(method: string): FakeCall[];
  threadOf(channel: string, ts: string): FakeMessage[];
  ephemeralsFor(user: string): FakeEphemeral[];
  /** The latest live message whose text or blocks contain `substring`. */
  findMessage(substring: string, filter?: MessageFilter): FakeMessage | undefined;
  /** A fresh response_url on this fake; posts to it are recorded and applied to the binding. */
  responseUrl(binding?: ResponseUrlBinding): string;
  waitFor<T>(fn: () => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** The next `times` calls of `method` answer HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN = 'xoxb-test-token';
/** Slack lets one response_url be used 5 times (within 30 minutes). */
const RESPONSE_URL_USES = 5;

/** Starts the fake on 127.0.0.1 (a free port unless `port` is given). */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const token = options.token ?? DEFAULT_TOKEN;
  const state: FakeSlackState = {
    origin: '',
    botUserId: options.botUserId ?? 'UBOT',
    botId: 'BBOT',
    teamId: 'T1',
    users: options.users ?? {},
    usergroups: options.usergroups ?? {},
    messages: new FakeSlackMessages(),
    files: new Map(),
  };
  const calls: FakeCall[] = [];
  const responses: FakeResponsePost[] = [];
  const limits = new Map<string, { retryAfter: number; remaining: number }>();
  const bindings = new Map<string, ResponseUrlBinding>();
  const responseUses = new Map<string, number>();
  let responseSeq = 0;

  async function handleApi(method: string, req: IncomingMessage, res: ServerResponse, raw: Buffer, query: URLSearchParams): Promise<void> {
    const at = Date.now();
    const decoded = await decodeBody(req.headers['content-type'] ?? '', raw);
    const { token: bodyToken, ...args }: Args = { ...Object.fromEntries(query), ...(decoded?.fields ?? {}) };
    const answer = (status: number, body: Answer, headers?: Record<string, string>): void => {
      const error = typeof body.error === 'string' ? body.error : undefined;
      calls.push({ method, args, at, status, ok: body.ok, error });
      send(res, status, body, headers);
    };
    if (method === 'apps.connections.open') {
      // Only an app-level token (xapp-) may open a Socket Mode connection.
      if (!options.appToken || bearer(req) !== options.appToken) return answer(200, { ok: false, error: 'invalid_auth' });
      return answer(200, { ok: true, url: options.socketModeUrl ?? 'ws://127.0.0.1:1/' });
    }
    const handler = METHODS.get(method);
    if (!handler) return answer(200, { ok: false, error: 'unknown_method' });
    if (!decoded) return answer(200, { ok: false, error: 'invalid_form_data' });
    // JSON bodies must carry the token in the header; forms may carry it in the body.
    const given = bearer(req) ?? (typeof bodyToken === 'string' ? bodyToken : undefined);
    if (given === undefined) return answer(200, { ok: false, error: 'not_authed' });
    if (given !== token) return answer(200, { ok: false, error: 'invalid_auth' });
    const limit = limits.get(method);
    if (limit && limit.remaining > 0) {
      limit.remaining -= 1;
      return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
    }
    answer(200, handler(args, state, at));
  }

  async function handleResponse(id: string, req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const at = Date.now();
    const uses = (responseUses.get(id) ?? 0) + 1;
    responseUses.set(id, uses);
    const decoded = await decodeBody(req.headers['content-type'] ?? '', raw);
    const payload = decoded?.fields.payload;
    const body: unknown = typeof payload === 'string' ? safeJson(payload) : decoded?.fields;
    const reply = (status: number, text: string | object): void => {
      responses.push({ id, body, at, status });
      send(res, status, text);
    };
    if (uses > RESPONSE_URL_USES) return reply(404, 'used_url');
    if (!isRecord(body)) return reply(400, 'invalid_payload');
    const checked = checkBlocksArg(body.blocks);
    if (!checked.ok) return reply(400, checked.error);
    applyResponse(body, checked.blocks, bindings.get(id) ?? {}, at);
    reply(200, { ok: true });
  }

  /** What Slack does with a response_url post, as far as the binding lets the fake know. */
  function applyResponse(body: Record<string, unknown>, blocks: unknown[] | undefined, b: ResponseUrlBinding, at: number): void {
    const text = typeof body.text === 'string' ? body.text : undefined;
    const original = b.channel !== undefined && b.messageTs !== undefined ? state.messages.get(b.channel, b.messageTs) : undefined;
    if (truthy(body.delete_original)) {
      if (original) original.deleted = true;
      return;
    }
    if (truthy(body.replace_original) && original) {
      // The posted message replaces the original whole: blocks not sent are gone.
      state.messages.edit(original, { text: text ?? '', blocks: blocks ?? [] }, at);
      return;
    }
    if (b.channel === undefined) return;
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    if (body.response_type === 'in_channel') {
      state.messages.add({ channel: b.channel, threadTs, user: state.botUserId, botId: state.botId, text: text ?? '', blocks, files: [] }, at);
    } else if (b.user !== undefined) {
      state.messages.addEphemeral({ channel: b.channel, user: b.user, threadTs, text: text ?? '', blocks, at, via: 'response_url' });
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', state.origin);
    const raw = await readBody(req);
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (api?.[1] !== undefined && (req.method === 'POST' || req.method === 'GET')) {
      return handleApi(api[1], req, res, raw, url.searchParams);
    }
    const upload = /^\/upload\/(F\w+)$/.exec(url.pathname);
    if (upload?.[1] !== undefined && req.method === 'POST') {
      const decoded = await decodeBody(req.headers['content-type'] ?? '', raw);
      // The WebClient sends multipart with one file part; curl-style raw bytes are accepted too.
      const bytes = decoded?.files[0] ?? raw;
      return acceptUpload(state, upload[1], bytes) ? send(res, 200, `OK - ${bytes.length}`) : send(res, 404, 'file_not_found');
    }
    const response = /^\/response\/([\w.-]+)$/.exec(url.pathname);
    if (response?.[1] !== undefined && req.method === 'POST') return handleResponse(response[1], req, res, raw);
    send(res, 404, 'not_found');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // A 5xx would make the WebClient retry for ~30 minutes; fail fast and loudly instead.
      console.error('fake-slack: handler crashed', error);
      if (!res.headersSent) send(res, 200, { ok: false, error: 'fatal_error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake-slack: server has no TCP address');
  state.origin = `http://127.0.0.1:${address.port}`;

  return {
    apiUrl: `${state.origin}/api/`,
    origin: state.origin,
    botUserId: state.botUserId,
    calls,
    messages: state.messages,
    files: state.files,
    responses,
    callsOf: (method) => calls.filter((c) => c.method === method),
    threadOf: (channel, ts) => state.messages.threadOf(channel, ts),
    ephemeralsFor: (user) => state.messages.ephemeralsFor(user),
    findMessage: (substring, filter) => state.messages.find(substring, filter),
    responseUrl(binding = {}) {
      responseSeq += 1;
      const id = `R${responseSeq}`;
      bindings.set(id, binding);
      return `${state.origin}/response/${id}`;
    },
    waitFor,
    rateLimit(method, retryAfterSeconds, times = 1) {
      limits.set(method, { retryAfter: retryAfterSeconds, remaining: times });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from fetch would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
