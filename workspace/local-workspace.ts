/**
 * The local rehearsal workspace: the Slack-compatible API (slack-api.ts) and
 * a page where one person acts as each member of the runbooks' roles. The
 * page types slash commands and clicks buttons through this server, which
 * sends the bot exactly what Slack would (signed, form-encoded, with Slack's
 * 3 s deadline and retries); the bot answers through the Web API as it would
 * at Slack. Nothing here knows the bot's code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { deliverLikeSlack, SLACK_DELIVERY, type BotEndpoint, type DeliveryOutcome, type DeliveryPolicy } from './bot-delivery.js';
import { elementIn, isRecord, optionIn } from './blocks.js';
import { safeJson, send } from './http.js';
import { WorkspaceMessages, type UploadedFile } from './messages.js';
import { servePage } from './page-assets.js';
import { WorkspaceStore } from './persistence.js';
import { listen, type Listening } from './server.js';
import { appHomeOpenedBody, blockActionBody, deliver, nextActionTs, nextTriggerId, slashCommandBody, viewSubmissionBody } from './signed-requests.js';
import { createSlackApi, type SlackApi } from './slack-api.js';
import { viewFor, type Person } from './view.js';
import { stateValues, type StoredView } from './views.js';

export type { Person } from './view.js';

export interface LocalWorkspaceOptions {
  port: number;
  /** Defaults to 127.0.0.1: whoever reaches the page can act as anyone. */
  host?: string;
  /** The bot token the Web API accepts. */
  token: string;
  people: Person[];
  usergroups?: Record<string, string[]>;
  channel?: { id: string; name: string };
  /** What the page states about this installation (durability first). */
  about: { durable: boolean; state: string; database: string; runbooks: string[] };
  delivery?: DeliveryPolicy;
  /** Keep messages and files in this folder across restarts (local mode on a durable backend). */
  storeDir?: string;
  onError?: (error: unknown) => void;
}

export interface LocalWorkspace {
  readonly origin: string;
  readonly port: number;
  /** `${origin}/api/`: the bot's SLACK_API_URL. */
  readonly apiUrl: string;
  readonly api: SlackApi;
  /** Where slash commands and clicks go from now on. */
  connectBot(bot: BotEndpoint): void;
  close(): Promise<void>;
}

const commandBody = z.object({ as: z.string().min(1), channel: z.string().min(1), text: z.string().max(4000) });
const actionBody = z.object({
  as: z.string().min(1),
  channel: z.string().min(1),
  ts: z.string().min(1),
  block: z.number().int().nonnegative(),
  actionId: z.string().min(1),
  ephemeral: z.boolean().default(false),
  /** The option chosen in a static_select (absent for a button). */
  selected: z.string().optional(),
});
const viewActionBody = z.object({ as: z.string().min(1), viewId: z.string().min(1), block: z.number().int().nonnegative(), actionId: z.string().min(1), selected: z.string().optional() });
/** What was entered in a modal, by block_id: text, a choice, several choices, or nothing. Bounded like any page input. */
const viewSubmitBody = z.object({
  as: z.string().min(1),
  viewId: z.string().min(1),
  values: z.record(z.string().max(255), z.union([z.string().max(4000), z.array(z.string().max(255)).max(100), z.null()])),
});
const viewCloseBody = z.object({ as: z.string().min(1), viewId: z.string().min(1) });

export async function startLocalWorkspace(options: LocalWorkspaceOptions): Promise<LocalWorkspace> {
  const channel = options.channel ?? { id: 'C0CUTOVER', name: 'cutover' };
  const users = Object.fromEntries(options.people.map((p) => [p.id, { name: p.name, real_name: p.realName, ...(p.displayName ? { display_name: p.displayName } : {}) }]));
  const messages = new WorkspaceMessages(Date.now, 5);
  const files = new Map<string, UploadedFile>();
  const store = options.storeDir ? new WorkspaceStore(options.storeDir, messages, files) : null;
  await store?.load();
  const api = createSlackApi({ token: options.token, users, usergroups: options.usergroups ?? {} }, messages, files);
  const policy = options.delivery ?? SLACK_DELIVERY;
  const people = new Map(options.people.map((p) => [p.id, p]));
  let bot: BotEndpoint | null = null;
  let closed = false;

  const streams = new Set<ServerResponse>();
  let version = 0;
  let pending: NodeJS.Timeout | null = null;
  const announce = (): void => {
    version += 1;
    store?.schedule();
    // Coalesced: a run's render edits several messages at once; the page refetches once.
    pending ??= setTimeout(() => {
      pending = null;
      for (const stream of streams) stream.write(`event: change\ndata: ${version}\n\n`);
    }, 40);
  };
  messages.onChange(announce);
  api.state.views.onChange(announce);
  api.state.filesChanged = announce;

  /** A notice only `user` sees, from Slackbot, as Slack shows a failed command. */
  const notice = (user: string, text: string, threadTs?: string): void => {
    messages.addEphemeral({ channel: channel.id, user, threadTs, text, blocks: undefined, at: Date.now(), via: 'workspace' });
  };

  const explain = (user: string, what: string, outcome: DeliveryOutcome, threadTs?: string): void => {
    if (outcome.ok) return;
    const error = outcome.error === 'dispatch_failed_no_retry' ? 'dispatch_failed' : outcome.error;
    notice(user, `${what} failed with the error "${error}" (${outcome.detail}).`, threadTs);
  };

  async function handleCommand(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = commandBody.safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success) return send(res, 400, { ok: false, error: 'invalid_request', detail: parsed.error.issues[0]?.message });
    const { as, text } = parsed.data;
    if (!people.has(as)) return send(res, 400, { ok: false, error: 'user_not_found' });
    const target = parsed.data.channel;
    const slash = /^(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(text.trim());
    if (!slash) {
      if (text.trim() === '') return send(res, 400, { ok: false, error: 'no_text' });
      // Plain chat from a person; the bot does not listen to messages, the team reads them.
      messages.add({ channel: target, threadTs: undefined, user: as, botId: '', text, blocks: undefined, files: [] }, Date.now());
      return send(res, 200, { ok: true });
    }
    const [, command = '', args = ''] = slash;
    if (command !== '/migrate') {
      notice(as, `${command} is not a valid command. This workspace knows /migrate.`);
      return send(res, 200, { ok: false, error: 'unknown_command' });
    }
    if (!bot) {
      notice(as, `${command} failed with the error "dispatch_failed" (the bot is not connected yet).`);
      return send(res, 200, { ok: false, error: 'dispatch_failed' });
    }
    const person = people.get(as);
    const triggerId = nextTriggerId(as);
    const body = slashCommandBody(
      {
        userId: as, userName: person?.name, channelId: target, channelName: channel.name, text: args, command,
        responseUrl: api.responseUrl({ channel: target, user: as }),
      },
      triggerId,
    );
    const outcome = await deliverLikeSlack(bot, body, triggerId, policy, {
      stopped: () => closed,
      onRetryOutcome: (attempt, later) => explain(as, `${command} (retry ${attempt})`, later),
    });
    if (outcome.ok) showAckResponse(as, target, outcome.delivery.json);
    else explain(as, command, outcome);
    send(res, 200, outcome.ok ? { ok: true } : { ok: false, error: outcome.error, detail: outcome.detail });
  }

  /** A command's HTTP answer with text or blocks is shown to the person, as Slack does with an ack payload. */
  function showAckResponse(user: string, target: string, json: unknown): void {
    if (!isRecord(json)) return;
    const text = typeof json.text === 'string' ? json.text : '';
    const blocks = Array.isArray(json.blocks) ? json.blocks : undefined;
    if (!text && !blocks) return;
    if (json.response_type === 'in_channel') {
      messages.add({ channel: target, threadTs: undefined, user: api.state.botUserId, botId: api.state.botId, text, blocks, files: [] }, Date.now());
    } else {
      messages.addEphemeral({ channel: target, user, threadTs: undefined, text, blocks, at: Date.now(), via: 'command_response' });
    }
  }

  async function handleAction(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = actionBody.safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success) return send(res, 400, { ok: false, error: 'invalid_request', detail: parsed.error.issues[0]?.message });
    const a = parsed.data;
    const person = people.get(a.as);
    if (!person) return send(res, 400, { ok: false, error: 'user_not_found' });
    // The button is read from the stored message, never from the page: the value is what the bot posted.
    const source = a.ephemeral
      ? messages.ephemeralsFor(a.as).find((e) => e.ts === a.ts && e.channel === a.channel)
      : messages.get(a.channel, a.ts);
    const block: unknown = source?.blocks?.[a.block];
    const button = isRecord(block) ? elementIn(block, a.actionId) : undefined;
    if (!source || !isRecord(block) || !button) return send(res, 404, { ok: false, error: 'button_not_found' });
    const option = a.selected === undefined ? undefined : optionIn(button, a.selected);
    if (a.selected !== undefined && !option) return send(res, 404, { ok: false, error: 'option_not_found' });
    if (!bot) return send(res, 200, { ok: false, error: 'dispatch_failed' });
    const threadTs = source.threadTs;
    const message = 'versions' in source
      ? { type: 'message', user: source.user, bot_id: source.botId, text: source.text, blocks: source.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) }
      : undefined;
    const triggerId = nextTriggerId(a.as);
    const body = blockActionBody(
      {
        userId: a.as, userName: person.name, channelId: a.channel, channelName: channel.name, messageTs: a.ts, threadTs,
        actionId: a.actionId,
        // Slack gives every block without an id one of its own; a stable one per position keeps retries identical.
        blockId: typeof block.block_id === 'string' ? block.block_id : `b${a.block}`,
        value: typeof button.value === 'string' ? button.value : '',
        buttonText: isRecord(button.text) && typeof button.text.text === 'string' ? button.text.text : a.actionId,
        ephemeral: a.ephemeral,
        ...(option ? { selectedOption: option } : {}),
        ...(message ? { message } : {}),
        responseUrl: api.responseUrl({ channel: a.channel, user: a.as, messageTs: a.ts, ephemeral: a.ephemeral, threadTs }),
      },
      triggerId,
      nextActionTs(),
    );
    const outcome = await deliverLikeSlack(bot, body, triggerId, policy, {
      stopped: () => closed,
      onRetryOutcome: (attempt, later) => explain(a.as, `The button (retry ${attempt})`, later, threadTs),
    });
    explain(a.as, 'The button', outcome, threadTs);
    send(res, 200, outcome.ok ? { ok: true } : { ok: false, error: outcome.error, detail: outcome.detail });
  }

  /** The person opened the app's Home tab: Slack sends app_home_opened (JSON, signed) and the bot publishes the view. */
  async function handleHomeOpened(res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = viewCloseBody.pick({ as: true }).safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success || !people.has(parsed.data.as)) return send(res, 400, { ok: false, error: 'user_not_found' });
    if (!bot) return send(res, 200, { ok: false, error: 'dispatch_failed' });
    const home = api.state.views.home(parsed.data.as);
    const body = appHomeOpenedBody({ userId: parsed.data.as, botUserId: api.state.botUserId, ...(home ? { view: api.state.views.json(home) } : {}) });
    try {
      const delivery = await deliver(bot.url, bot.signingSecret, body, { contentType: 'application/json', timeoutMs: policy.timeoutMs });
      send(res, 200, delivery.status === 200 ? { ok: true } : { ok: false, error: 'dispatch_failed', detail: `the bot answered HTTP ${delivery.status}` });
    } catch (err) {
      send(res, 200, { ok: false, error: 'dispatch_failed', detail: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The view (Home or the top modal) this person has open with this id; never one the page merely names. */
  const shownView = (as: string, viewId: string): StoredView | undefined =>
    [api.state.views.home(as), api.state.views.modal(as)].find((v) => v?.id === viewId);

  /** A button (or select) in a Home tab or a modal: block_actions with a `view` container, read from the stored view. */
  async function handleViewAction(res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = viewActionBody.safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success) return send(res, 400, { ok: false, error: 'invalid_request', detail: parsed.error.issues[0]?.message });
    const a = parsed.data;
    const person = people.get(a.as);
    const view = shownView(a.as, a.viewId);
    const blocks: unknown[] = Array.isArray(view?.view.blocks) ? view.view.blocks : [];
    const block = blocks[a.block];
    const element = isRecord(block) ? elementIn(block, a.actionId) : undefined;
    if (!person || !view || !isRecord(block) || !element) return send(res, 404, { ok: false, error: 'button_not_found' });
    const option = a.selected === undefined ? undefined : optionIn(element, a.selected);
    if (!bot) return send(res, 200, { ok: false, error: 'dispatch_failed' });
    const triggerId = nextTriggerId(a.as);
    const body = blockActionBody(
      {
        userId: a.as, userName: person.name, channelId: '', messageTs: '', actionId: a.actionId,
        blockId: typeof block.block_id === 'string' ? block.block_id : `b${a.block}`,
        value: typeof element.value === 'string' ? element.value : '',
        buttonText: isRecord(element.text) && typeof element.text.text === 'string' ? element.text.text : a.actionId,
        view: api.state.views.json(view),
        ...(option ? { selectedOption: option } : {}),
      },
      triggerId,
      nextActionTs(),
    );
    const outcome = await deliverLikeSlack(bot, body, triggerId, policy, { stopped: () => closed });
    explain(a.as, 'The button', outcome);
    send(res, 200, outcome.ok ? { ok: true } : { ok: false, error: outcome.error, detail: outcome.detail });
  }

  /**
   * A modal submitted: view_submission with state.values built from the
   * stored view. The bot's answer is applied as Slack applies it (errors under
   * the fields, or the modal closes). Slack does not retry a submission: a
   * failure is shown in the modal and the person submits again.
   */
  async function handleViewSubmit(res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = viewSubmitBody.safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success) return send(res, 400, { ok: false, error: 'invalid_request', detail: parsed.error.issues[0]?.message });
    const { as, viewId, values } = parsed.data;
    const person = people.get(as);
    const view = api.state.views.modal(as);
    if (!person || view?.id !== viewId) return send(res, 404, { ok: false, error: 'view_not_found' });
    if (!bot) return send(res, 200, { ok: false, error: 'dispatch_failed' });
    const triggerId = nextTriggerId(as);
    const body = viewSubmissionBody({ userId: as, userName: person.name, view: api.state.views.json(view, stateValues(view, values)) }, triggerId);
    const outcome = await deliverLikeSlack(bot, body, triggerId, { timeoutMs: policy.timeoutMs, retryDelaysMs: [] }, { stopped: () => closed });
    if (!outcome.ok) return send(res, 200, { ok: false, error: outcome.error, detail: outcome.detail });
    send(res, 200, { ok: true, outcome: api.state.views.applySubmissionResponse(viewId, outcome.delivery.json) });
  }

  function handleViewClose(res: ServerResponse, raw: Buffer): void {
    const parsed = viewCloseBody.safeParse(safeJson(raw.toString('utf8')));
    if (!parsed.success) return send(res, 400, { ok: false, error: 'invalid_request' });
    api.state.views.close(parsed.data.as, parsed.data.viewId);
    send(res, 200, { ok: true });
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`event: change\ndata: ${version}\n\n`);
    streams.add(res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      streams.delete(res);
    });
  }

  async function routes(req: IncomingMessage, res: ServerResponse, url: URL, raw: Buffer): Promise<boolean> {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/local/info') {
      send(res, 200, {
        team: api.state.teamName, channel, people: options.people, about: options.about, botUserId: api.state.botUserId, botConnected: bot !== null,
      });
      return true;
    }
    if (req.method === 'GET' && path === '/local/view') {
      const as = url.searchParams.get('as') ?? '';
      if (!people.has(as)) send(res, 400, { ok: false, error: 'user_not_found' });
      else send(res, 200, { version, ...viewFor(as, messages, { origin: api.state.origin, botUserId: api.state.botUserId }, [channel]), ...viewsFor(as) });
      return true;
    }
    const viewRoutes: Record<string, (res: ServerResponse, raw: Buffer) => Promise<void> | void> = {
      '/local/home-opened': handleHomeOpened,
      '/local/view-action': handleViewAction,
      '/local/view-submit': handleViewSubmit,
      '/local/view-close': handleViewClose,
    };
    const viewRoute = req.method === 'POST' ? viewRoutes[path] : undefined;
    if (viewRoute) {
      await viewRoute(res, raw);
      return true;
    }
    if (req.method === 'GET' && path === '/local/events') {
      handleEvents(req, res);
      return true;
    }
    if (req.method === 'POST' && path === '/local/command') {
      await handleCommand(req, res, raw);
      return true;
    }
    if (req.method === 'POST' && path === '/local/action') {
      await handleAction(req, res, raw);
      return true;
    }
    if (req.method === 'GET' && (path === '/healthz' || path === '/metrics')) {
      await proxyToBot(path, req, res);
      return true;
    }
    return servePage(req, res, path);
  }

  /** This person's Home tab and top modal, as the page draws them. */
  function viewsFor(as: string): { home: unknown; modal: unknown } {
    const home = api.state.views.home(as);
    const modal = api.state.views.modal(as);
    return {
      home: home ? { id: home.id, hash: home.hash, blocks: home.view.blocks } : null,
      modal: modal
        ? { id: modal.id, hash: modal.hash, title: modal.view.title, submit: modal.view.submit ?? null, close: modal.view.close ?? null, blocks: modal.view.blocks, errors: modal.errors }
        : null,
    };
  }

  /** The page's port answers /healthz and /metrics for the whole process, as the bot's own port would. */
  async function proxyToBot(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!bot) return send(res, 503, { ok: false, detail: 'bot not connected yet' });
    try {
      const authorization = req.headers.authorization;
      const answer = await fetch(`${bot.url}${path}`, { signal: AbortSignal.timeout(3000), headers: authorization ? { authorization } : {} });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(await answer.text());
    } catch (err) {
      send(res, 503, { ok: false, detail: `bot: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  const listening: Listening = await listen([api.handle, routes], {
    port: options.port,
    host: options.host ?? '127.0.0.1',
    ...(options.onError ? { onError: options.onError } : {}),
  });
  api.state.origin = listening.origin;
  return {
    origin: listening.origin,
    port: listening.port,
    apiUrl: `${listening.origin}/api/`,
    api,
    connectBot(endpoint) {
      bot = endpoint;
      announce();
    },
    async close() {
      closed = true;
      if (pending) clearTimeout(pending);
      for (const stream of streams) stream.end();
      await listening.close();
      await store?.flush();
    },
  };
}
