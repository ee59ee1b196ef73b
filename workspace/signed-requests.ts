/**
 * Requests as Slack sends them to the bot at `POST {botUrl}/slack/events`:
 * signed (v0 HMAC-SHA256 over `v0:<ts>:<rawBody>`), form-encoded with exactly
 * `application/x-www-form-urlencoded` (Bolt answers 400 to anything else for
 * forms), and on redelivery marked with X-Slack-Retry-Num / -Reason while the
 * body stays byte-identical.
 */
import { createHmac } from 'node:crypto';

export interface DeliveryOptions {
  /** Marks a redelivery: adds X-Slack-Retry-Num and X-Slack-Retry-Reason. */
  retryNum?: number;
  /** Defaults to 'http_timeout' when retryNum is set. */
  retryReason?: string;
  /** Unix seconds used for signing; defaults to now. */
  timestamp?: number;
  /** Sent instead of the correct signature (to forge). */
  signature?: string;
  omitSignature?: boolean;
  omitTimestamp?: boolean;
  /** Overrides the Content-Type header (to prove what Bolt refuses). */
  contentType?: string;
  triggerId?: string;
  /** Aborts the request after this long (Slack gives up after 3 s); no limit when unset. */
  timeoutMs?: number;
}

export interface BlockActionOptions extends DeliveryOptions {
  /** Fixed action_ts, so a retry resends the identical body. */
  actionTs?: string;
}

export interface SlackDelivery {
  status: number;
  /** The bot's response body as text ('' when empty). */
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  /** What was sent, to resend it byte for byte with `deliver(…, { retryNum })`. */
  sent: { rawBody: string; triggerId: string };
}

export interface SlashCommand {
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  text: string;
  command?: string;
  teamId?: string;
  /** Defaults to a loopback URL nobody listens on; pass the workspace's `responseUrl()` to capture. */
  responseUrl?: string;
}

export interface BlockAction {
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  messageTs: string;
  actionId: string;
  blockId: string;
  value: string;
  threadTs?: string;
  teamId?: string;
  responseUrl?: string;
  /** The clicked message as Slack includes it (text, blocks…); ts/thread_ts are filled in. */
  message?: Record<string, unknown>;
  /** Button label, for `actions[0].text`. */
  buttonText?: string;
  /** A choice in a static_select instead of a button click: `value` is then ignored. */
  selectedOption?: { text: string; value: string };
  /** A click on an ephemeral message: Slack marks the container and sends no `message`. */
  ephemeral?: boolean;
  /** A click in a view (App Home or a modal), as the API returns the view: no channel, no message, a `view` container. */
  view?: Record<string, unknown>;
}

/** Refused at once (nothing listens on port 1), so a stray respond() never leaves the machine. */
const UNSET_RESPONSE_URL = 'http://127.0.0.1:1/response/unset';
const API_APP_ID = 'A0CUTOVER';
const TEAM_DOMAIN = 'local-rehearsal';

let sequence = 0;
/** Triggers handed out in this process, so the workspace's views.open can tell a fresh one from an expired, reused or made-up one. */
const issuedTriggers = new Map<string, { at: number; user: string | undefined }>();
const KEEP_TRIGGERS_MS = 60_000;

/** A fresh trigger_id for a command or click by `user` (Slack's trigger opens a view for that person only). */
export function nextTriggerId(user?: string): string {
  sequence += 1;
  const id = `${1_000_000 + sequence}.${sequence}.local${sequence.toString(16).padStart(8, '0')}`;
  const at = Date.now();
  issuedTriggers.set(id, { at, user });
  // Oldest first (insertion order): drop what no view can exchange any more.
  for (const [old, t] of issuedTriggers) {
    if (at - t.at < KEEP_TRIGGERS_MS) break;
    issuedTriggers.delete(old);
  }
  return id;
}

/** When and for whom a trigger_id was handed out here; undefined for one this process never issued (or long expired). */
export function triggerIssued(triggerId: string): { at: number; user: string | undefined } | undefined {
  return issuedTriggers.get(triggerId);
}

/** The headers Slack signs a delivery with. */
export function signRequest(
  secret: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): { 'X-Slack-Request-Timestamp': string; 'X-Slack-Signature': string } {
  const hex = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': `v0=${hex}` };
}

/** POSTs a raw form body to `{botUrl}/slack/events`, signed unless told otherwise. */
export async function deliver(
  botUrl: string,
  secret: string,
  rawBody: string,
  opts: DeliveryOptions = {},
  triggerId = '',
): Promise<SlackDelivery> {
  const signed = signRequest(secret, rawBody, opts.timestamp);
  const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded' };
  if (!opts.omitTimestamp) headers['X-Slack-Request-Timestamp'] = signed['X-Slack-Request-Timestamp'];
  if (!opts.omitSignature) headers['X-Slack-Signature'] = opts.signature ?? signed['X-Slack-Signature'];
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = opts.retryReason ?? 'http_timeout';
  }
  const signal = opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined;
  const res = await fetch(`${botUrl.replace(/\/+$/, '')}/slack/events`, { method: 'POST', headers, body: rawBody, ...(signal ? { signal } : {}) });
  const body = await res.text();
  return { status: res.status, body, json: parseJson(body), sent: { rawBody, triggerId } };
}

/** A slash command, every field Slack sends. */
export function slashCommandBody(cmd: SlashCommand, triggerId: string): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: cmd.teamId ?? 'T1',
    team_domain: TEAM_DOMAIN,
    channel_id: cmd.channelId,
    channel_name: cmd.channelName ?? 'cutover',
    user_id: cmd.userId,
    user_name: cmd.userName ?? cmd.userId.toLowerCase(),
    command: cmd.command ?? '/migrate',
    text: cmd.text,
    api_app_id: API_APP_ID,
    is_enterprise_install: 'false',
    response_url: cmd.responseUrl ?? UNSET_RESPONSE_URL,
    trigger_id: triggerId,
  }).toString();
}

export async function sendSlashCommand(
  botUrl: string,
  secret: string,
  cmd: SlashCommand,
  opts: DeliveryOptions = {},
): Promise<SlackDelivery> {
  const triggerId = opts.triggerId ?? nextTriggerId(cmd.userId);
  return deliver(botUrl, secret, slashCommandBody(cmd, triggerId), opts, triggerId);
}

/** The `block_actions` payload of a button click, as Slack builds it. */
export function blockActionPayload(a: BlockAction, triggerId: string, actionTs: string): Record<string, unknown> {
  const teamId = a.teamId ?? 'T1';
  const userName = a.userName ?? a.userId.toLowerCase();
  if (a.view) {
    return {
      type: 'block_actions',
      user: { id: a.userId, username: userName, name: userName, team_id: teamId },
      api_app_id: API_APP_ID,
      token: 'deprecated-verification-token',
      container: { type: 'view', view_id: a.view.id },
      trigger_id: triggerId,
      team: { id: teamId, domain: TEAM_DOMAIN },
      enterprise: null,
      is_enterprise_install: false,
      view: a.view,
      actions: [a.selectedOption ? selectAction(a, a.selectedOption, actionTs) : buttonAction(a, actionTs)],
    };
  }
  return {
    type: 'block_actions',
    user: { id: a.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: API_APP_ID,
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: a.messageTs, channel_id: a.channelId, is_ephemeral: a.ephemeral === true },
    trigger_id: triggerId,
    team: { id: teamId, domain: TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: a.channelId, name: a.channelName ?? 'cutover' },
    ...(a.ephemeral
      ? {}
      : { message: { type: 'message', ...a.message, ts: a.messageTs, ...(a.threadTs !== undefined ? { thread_ts: a.threadTs } : {}) } }),
    state: { values: {} },
    response_url: a.responseUrl ?? UNSET_RESPONSE_URL,
    actions: [a.selectedOption ? selectAction(a, a.selectedOption, actionTs) : buttonAction(a, actionTs)],
  };
}

function buttonAction(a: BlockAction, actionTs: string): Record<string, unknown> {
  return {
    type: 'button',
    action_id: a.actionId,
    block_id: a.blockId,
    value: a.value,
    text: { type: 'plain_text', text: a.buttonText ?? a.actionId, emoji: true },
    action_ts: actionTs,
  };
}

/** As Slack sends a static_select choice: the chosen option, no `value` of its own. */
function selectAction(a: BlockAction, option: { text: string; value: string }, actionTs: string): Record<string, unknown> {
  return {
    type: 'static_select',
    action_id: a.actionId,
    block_id: a.blockId,
    selected_option: { text: { type: 'plain_text', text: option.text, emoji: true }, value: option.value },
    placeholder: { type: 'plain_text', text: 'Select', emoji: true },
    action_ts: actionTs,
  };
}

/** The form body Slack posts for a click: one field `payload` holding the JSON. */
export function blockActionBody(a: BlockAction, triggerId: string, actionTs: string): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionPayload(a, triggerId, actionTs)) }).toString();
}

/** An action_ts as Slack writes it: unix seconds with six decimals, unique per click. */
export function nextActionTs(): string {
  sequence += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(sequence % 1_000_000).padStart(6, '0')}`;
}

export async function sendBlockAction(
  botUrl: string,
  secret: string,
  action: BlockAction,
  opts: BlockActionOptions = {},
): Promise<SlackDelivery> {
  const triggerId = opts.triggerId ?? nextTriggerId(action.userId);
  const actionTs = opts.actionTs ?? nextActionTs();
  const rawBody = blockActionBody(action, triggerId, actionTs);
  return deliver(botUrl, secret, rawBody, opts, triggerId);
}

/** A modal's submission, as Slack posts it: the view with `state.values` filled from what was entered. */
export function viewSubmissionBody(s: { userId: string; userName?: string; teamId?: string; view: Record<string, unknown> }, triggerId: string): string {
  const teamId = s.teamId ?? 'T1';
  const userName = s.userName ?? s.userId.toLowerCase();
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: TEAM_DOMAIN },
    user: { id: s.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: API_APP_ID,
    token: 'deprecated-verification-token',
    trigger_id: triggerId,
    view: s.view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

let eventSequence = 0;

/** The Events API envelope of `app_home_opened` (JSON, signed like every delivery); `view` is the Home the person last had, if any. */
export function appHomeOpenedBody(e: { userId: string; botUserId: string; teamId?: string; view?: Record<string, unknown> }): string {
  eventSequence += 1;
  const teamId = e.teamId ?? 'T1';
  const now = Date.now() / 1000;
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: API_APP_ID,
    event: {
      type: 'app_home_opened',
      user: e.userId,
      channel: `D${e.userId}`,
      tab: 'home',
      event_ts: now.toFixed(6),
      ...(e.view ? { view: e.view } : {}),
    },
    type: 'event_callback',
    event_id: `Ev${String(eventSequence).padStart(8, '0')}`,
    event_time: Math.floor(now),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: e.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

/** Sends an Events API body (JSON) as Slack does. */
export function sendEvent(botUrl: string, secret: string, rawBody: string, opts: DeliveryOptions = {}): Promise<SlackDelivery> {
  return deliver(botUrl, secret, rawBody, { contentType: 'application/json', ...opts });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
