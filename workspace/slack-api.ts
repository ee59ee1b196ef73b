/**
 * The Slack side of the workspace at its HTTP boundary: it answers the Web
 * API the way slack.com does (auth, JSON and form bodies, rate limits with
 * Retry-After), takes file uploads, serves the files back, and applies
 * posts to response_url. Mount it in any node:http server (see server.ts).
 *
 * Routes: `POST|GET /api/<method>`, `POST /upload/<fileId>` (the upload_url of
 * files.getUploadURLExternal), `GET /files/<fileId>[/<name>]`, `POST /response/<id>`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBlocksArg, isRecord } from './blocks.js';
import { bearer, decodeBody, safeJson, send, truthy } from './http.js';
import { contentTypeOf } from './content-types.js';
import { WorkspaceMessages, type UploadedFile } from './messages.js';
import { triggerIssued } from './signed-requests.js';
import { WorkspaceViews } from './views.js';
import { acceptUpload, METHODS, type Answer, type Args, type WorkspaceState, type WorkspaceUser } from './web-api.js';

export interface SlackApiOptions {
  /** The bot token the API accepts (`xoxb-…`). */
  token: string;
  botUserId?: string;
  teamName?: string;
  usergroups?: Record<string, string[]>;
  users?: Record<string, WorkspaceUser>;
  /** Socket Mode: the app-level token apps.connections.open requires, and the WebSocket URL it hands out. */
  appToken?: string;
  socketModeUrl?: string;
}

/** One Web API request as the workspace received and answered it. */
export interface ApiCall {
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
export interface ResponsePost {
  id: string;
  body: unknown;
  at: number;
  status: number;
}

/** Where a response_url's posts land (all optional). */
export interface ResponseUrlBinding {
  channel?: string;
  /** Who sees ephemeral responses. */
  user?: string;
  /** The message `replace_original` / `delete_original` act on. */
  messageTs?: string;
  /** The original is an ephemeral (a click on one): replace/delete act on it. */
  ephemeral?: boolean;
  /** Thread of the message clicked, so in-thread responses stay there. */
  threadTs?: string;
}

export interface SlackApi {
  readonly state: WorkspaceState;
  readonly calls: ApiCall[];
  readonly responses: ResponsePost[];
  /** Answers the request if it is one of the API's routes; false otherwise (the caller routes on). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<boolean>;
  /** A fresh response_url; posts to it are recorded and applied to the binding. */
  responseUrl(binding?: ResponseUrlBinding): string;
  /** The next `times` calls of `method` answer HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, retryAfterSeconds: number, times?: number): void;
}

/** Slack lets one response_url be used 5 times (within 30 minutes). */
const RESPONSE_URL_USES = 5;

export function createSlackApi(options: SlackApiOptions, messages = new WorkspaceMessages(), files = new Map<string, UploadedFile>()): SlackApi {
  const state: WorkspaceState = {
    origin: '',
    botUserId: options.botUserId ?? 'UBOT',
    botId: 'BBOT',
    teamId: 'T1',
    teamName: options.teamName ?? 'Local rehearsal',
    users: options.users ?? {},
    usergroups: options.usergroups ?? {},
    messages,
    files,
    views: new WorkspaceViews({ teamId: 'T1', botId: 'BBOT', appId: 'A0CUTOVER' }, triggerIssued),
  };
  const calls: ApiCall[] = [];
  const responses: ResponsePost[] = [];
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
    if (given !== options.token) return answer(200, { ok: false, error: 'invalid_auth' });
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

  /** What Slack does with a response_url post, as far as the binding says where it belongs. */
  function applyResponse(body: Record<string, unknown>, blocks: unknown[] | undefined, b: ResponseUrlBinding, at: number): void {
    const text = typeof body.text === 'string' ? body.text : undefined;
    if (b.ephemeral) {
      const original = b.messageTs !== undefined ? messages.ephemeralsFor(b.user ?? '').find((e) => e.ts === b.messageTs) : undefined;
      if (original && (truthy(body.delete_original) || truthy(body.replace_original))) {
        messages.replaceEphemeral(original, truthy(body.delete_original) ? undefined : { text: text ?? '', blocks });
        return;
      }
    }
    const original = b.channel !== undefined && b.messageTs !== undefined && !b.ephemeral ? messages.get(b.channel, b.messageTs) : undefined;
    if (truthy(body.delete_original)) {
      if (original) messages.remove(original);
      return;
    }
    if (truthy(body.replace_original) && original) {
      // The posted message replaces the original whole: blocks not sent are gone.
      messages.edit(original, { text: text ?? '', blocks: blocks ?? [] }, at);
      return;
    }
    if (b.channel === undefined) return;
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : b.threadTs;
    if (body.response_type === 'in_channel') {
      messages.add({ channel: b.channel, threadTs, user: state.botUserId, botId: state.botId, text: text ?? '', blocks, files: [] }, at);
    } else if (b.user !== undefined) {
      messages.addEphemeral({ channel: b.channel, user: b.user, threadTs, text: text ?? '', blocks, at, via: 'response_url' });
    }
  }

  function serveFile(id: string, res: ServerResponse): void {
    const file = files.get(id);
    if (!file?.bytes || !file.completed) return send(res, 404, 'file_not_found');
    res.writeHead(200, {
      'content-type': contentTypeOf(file.filename),
      'content-length': String(file.bytes.length),
      // inline: the page shows PNGs and text in place; its download links add the download attribute.
      'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
      'x-content-type-options': 'nosniff',
    });
    res.end(file.bytes);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<boolean> {
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (api?.[1] !== undefined && (req.method === 'POST' || req.method === 'GET')) {
      await handleApi(api[1], req, res, raw, url.searchParams);
      return true;
    }
    const upload = /^\/upload\/(F\w+)$/.exec(url.pathname);
    if (upload?.[1] !== undefined && req.method === 'POST') {
      const decoded = await decodeBody(req.headers['content-type'] ?? '', raw);
      // The WebClient sends multipart with one file part; curl-style raw bytes are accepted too.
      const bytes = decoded?.files[0] ?? raw;
      if (acceptUpload(state, upload[1], bytes)) send(res, 200, `OK - ${bytes.length}`);
      else send(res, 404, 'file_not_found');
      return true;
    }
    const file = /^\/files\/(F\w+)(?:\/[^/]*)?$/.exec(url.pathname);
    if (file?.[1] !== undefined && req.method === 'GET') {
      serveFile(file[1], res);
      return true;
    }
    const response = /^\/response\/([\w.-]+)$/.exec(url.pathname);
    if (response?.[1] !== undefined && req.method === 'POST') {
      await handleResponse(response[1], req, res, raw);
      return true;
    }
    return false;
  }

  return {
    state,
    calls,
    responses,
    handle,
    responseUrl(binding = {}) {
      responseSeq += 1;
      const id = `R${responseSeq}`;
      bindings.set(id, binding);
      return `${state.origin}/response/${id}`;
    },
    rateLimit(method, retryAfterSeconds, times = 1) {
      limits.set(method, { retryAfter: retryAfterSeconds, remaining: times });
    },
  };
}
