/**
 * Web API methods of the Slack-compatible workspace. Each handler takes the
 * decoded form/JSON arguments (strings from a form; arrays such as `blocks`
 * still JSON text) and answers as Slack does: `{ok:true, …}` or
 * `{ok:false, error}` (HTTP 200 both). Auth, rate limits and HTTP live in
 * slack-api.ts.
 */
import { checkBlocksArg, isRecord } from './blocks.js';
import { contentTypeOf } from './content-types.js';
import { dmChannelOf, type UploadedFile, type WorkspaceMessage, type WorkspaceMessages } from './messages.js';
import type { WorkspaceViews } from './views.js';

export interface WorkspaceUser {
  /** The handle (users.info `name`). */
  name: string;
  real_name?: string;
  /** The name they chose to be shown by; empty or absent, Slack shows the real name. */
  display_name?: string;
}

/** What the handlers read and write; one per workspace. */
export interface WorkspaceState {
  /** `http://127.0.0.1:PORT`, known once the server listens. */
  origin: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly teamName: string;
  readonly users: Readonly<Record<string, WorkspaceUser>>;
  readonly usergroups: Readonly<Record<string, readonly string[]>>;
  readonly messages: WorkspaceMessages;
  readonly files: Map<string, UploadedFile>;
  /** App Home tabs and open modals. */
  readonly views: WorkspaceViews;
  /** Told when a file is announced, uploaded or completed (the page's live updates; persistence). */
  filesChanged?: () => void;
}

export type Args = Record<string, unknown>;
export type Answer = { ok: boolean } & Record<string, unknown>;
type Handler = (args: Args, state: WorkspaceState, at: number) => Answer;

const BOT_NAME = 'cutover';
/** Slack truncates or refuses message text beyond this. */
const MAX_TEXT = 40_000;

function fail(error: string, messages?: string[]): Answer {
  return messages && messages.length > 0 ? { ok: false, error, response_metadata: { messages } } : { ok: false, error };
}

function missing(field: string): Answer {
  return fail('invalid_arguments', [`[ERROR] missing required field: ${field}`]);
}

/** A scalar argument as Slack reads it: an empty value counts as absent. */
function str(args: Args, key: string): string | undefined {
  const v = args[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** A JSON argument: a JSON string in a form body, or the value itself in a JSON body. */
function json(args: Args, key: string): unknown {
  const v = args[key];
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Posting to a user id lands in the bot's DM with that user, as on Slack. */
function resolveChannel(raw: string | undefined): string | undefined {
  return raw !== undefined && /^[UW][A-Z0-9]+$/.test(raw) ? dmChannelOf(raw) : raw;
}

type Content = { text: string | undefined; blocks: unknown[] | undefined };

/** Text and blocks of a message, checked against Slack's limits. */
function content(args: Args): { error: Answer } | Content {
  const text = str(args, 'text');
  if (text !== undefined && text.length > MAX_TEXT) return { error: fail('msg_too_long') };
  const checked = checkBlocksArg(args.blocks);
  if (!checked.ok) return { error: fail(checked.error, checked.messages) };
  const hasBlocks = checked.blocks !== undefined && checked.blocks.length > 0;
  if (text === undefined && !hasBlocks && args.attachments === undefined) return { error: fail('no_text') };
  return { text, blocks: checked.blocks };
}

function messageJson(m: WorkspaceMessage, s: WorkspaceState): Record<string, unknown> {
  return {
    type: 'message',
    user: m.user,
    bot_id: m.botId,
    team: s.teamId,
    text: m.text,
    ts: m.ts,
    ...(m.threadTs !== undefined ? { thread_ts: m.threadTs } : {}),
    ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
    ...(m.files.length > 0 ? { files: m.files.map((f) => fileJson(f, s)) } : {}),
  };
}

function fileJson(f: UploadedFile, s: WorkspaceState): Record<string, unknown> {
  return {
    id: f.id, name: f.filename, title: f.title ?? f.filename, size: f.length, url_private: `${s.origin}/files/${f.id}`,
    mimetype: contentTypeOf(f.filename).split(';')[0], mode: f.snippetType ? 'snippet' : 'hosted', ...(f.snippetType ? { filetype: f.snippetType } : {}),
  };
}

/** Resolves thread_ts to the thread's parent, as Slack does for a reply to a reply. */
function threadParent(s: WorkspaceState, channel: string, threadTs: string | undefined): { error: Answer } | { ts: string | undefined } {
  if (threadTs === undefined) return { ts: undefined };
  const parent = s.messages.get(channel, threadTs);
  if (!parent) return { error: fail('invalid_thread_ts') };
  return { ts: parent.threadTs ?? parent.ts };
}

function postMessage(args: Args, s: WorkspaceState, at: number): Answer {
  const channel = resolveChannel(str(args, 'channel'));
  if (channel === undefined) return fail('channel_not_found');
  const c = content(args);
  if ('error' in c) return c.error;
  const thread = threadParent(s, channel, str(args, 'thread_ts'));
  if ('error' in thread) return thread.error;
  const m = s.messages.add(
    { channel, threadTs: thread.ts, user: s.botUserId, botId: s.botId, text: c.text ?? '', blocks: c.blocks, files: [] },
    at,
  );
  return { ok: true, channel, ts: m.ts, message: messageJson(m, s) };
}

function update(args: Args, s: WorkspaceState, at: number): Answer {
  const channel = resolveChannel(str(args, 'channel'));
  const ts = str(args, 'ts');
  if (channel === undefined) return fail('channel_not_found');
  if (ts === undefined) return fail('message_not_found');
  const m = s.messages.get(channel, ts);
  if (!m) return fail('message_not_found');
  if (m.user !== s.botUserId) return fail('cant_update_message');
  const c = content(args);
  if ('error' in c) return c.error;
  s.messages.edit(m, { ...(c.text !== undefined ? { text: c.text } : {}), ...(c.blocks ? { blocks: c.blocks } : {}) }, at);
  return { ok: true, channel, ts, text: m.text, message: messageJson(m, s) };
}

function postEphemeral(args: Args, s: WorkspaceState, at: number): Answer {
  const channel = resolveChannel(str(args, 'channel'));
  const user = str(args, 'user');
  if (channel === undefined) return fail('channel_not_found');
  if (user === undefined) return missing('user');
  const c = content(args);
  if ('error' in c) return c.error;
  const e = s.messages.addEphemeral({
    channel, user, threadTs: str(args, 'thread_ts'), text: c.text ?? '', blocks: c.blocks, at, via: 'chat.postEphemeral',
  });
  return { ok: true, message_ts: e.ts };
}

function getPermalink(args: Args, s: WorkspaceState): Answer {
  const channel = str(args, 'channel');
  const ts = str(args, 'message_ts');
  if (channel === undefined) return fail('channel_not_found');
  const m = ts === undefined ? undefined : s.messages.get(channel, ts);
  if (!m) return fail('message_not_found');
  const thread = m.threadTs !== undefined ? `?thread_ts=${m.threadTs}&cid=${channel}` : '';
  return { ok: true, channel, permalink: `${s.origin}/archives/${channel}/p${m.ts.replace('.', '')}${thread}` };
}

function deleteMessage(args: Args, s: WorkspaceState): Answer {
  const channel = resolveChannel(str(args, 'channel'));
  const ts = str(args, 'ts');
  const m = channel === undefined || ts === undefined ? undefined : s.messages.get(channel, ts);
  if (!m) return fail('message_not_found');
  s.messages.remove(m);
  return { ok: true, channel, ts };
}

function conversationsOpen(args: Args): Answer {
  const channel = str(args, 'channel');
  if (channel !== undefined) return { ok: true, channel: { id: channel } };
  const users = (str(args, 'users') ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  const [only] = users;
  if (only === undefined) return fail('users_list_not_supplied');
  const id = users.length === 1 ? dmChannelOf(only) : `G${[...users].sort().join('')}`;
  return { ok: true, channel: { id } };
}

function usersInfo(args: Args, s: WorkspaceState): Answer {
  const id = str(args, 'user');
  if (id === undefined) return missing('user');
  const isBot = id === s.botUserId;
  const known = isBot ? { name: BOT_NAME, real_name: 'Cutover' } : s.users[id];
  if (!known) return fail('user_not_found');
  const realName = known.real_name ?? known.name;
  return {
    ok: true,
    user: {
      id, team_id: s.teamId, name: known.name, real_name: realName, deleted: false, is_bot: isBot, tz: 'UTC',
      profile: { real_name: realName, display_name: known.display_name ?? '', email: `${known.name}@example.com` },
    },
  };
}

function usergroupUsers(args: Args, s: WorkspaceState): Answer {
  const group = str(args, 'usergroup');
  if (group === undefined) return missing('usergroup');
  const users = s.usergroups[group];
  return users ? { ok: true, users: [...users] } : fail('no_such_subteam');
}

function reactionsAdd(args: Args, s: WorkspaceState): Answer {
  const channel = str(args, 'channel');
  const ts = str(args, 'timestamp');
  const name = str(args, 'name');
  if (name === undefined) return fail('invalid_name');
  const m = channel === undefined || ts === undefined ? undefined : s.messages.get(channel, ts);
  if (!m) return fail('message_not_found');
  return s.messages.react(m, name) ? { ok: true } : fail('already_reacted');
}

function getUploadUrl(args: Args, s: WorkspaceState): Answer {
  const filename = str(args, 'filename');
  const length = Number(str(args, 'length'));
  if (filename === undefined) return missing('filename');
  if (!Number.isInteger(length) || length < 1) return missing('length');
  const id = `F${String(s.files.size + 1).padStart(8, '0')}`;
  const snippetType = str(args, 'snippet_type');
  s.files.set(id, { id, filename, title: undefined, length, bytes: undefined, completed: false, ...(snippetType ? { snippetType } : {}) });
  s.filesChanged?.();
  return { ok: true, upload_url: `${s.origin}/upload/${id}`, file_id: id };
}

function completeUpload(args: Args, s: WorkspaceState, at: number): Answer {
  const list = json(args, 'files');
  if (!Array.isArray(list) || list.length === 0) return missing('files');
  const files: UploadedFile[] = [];
  for (const entry of list) {
    const file = isRecord(entry) && typeof entry.id === 'string' ? s.files.get(entry.id) : undefined;
    // A file whose bytes never reached the upload URL cannot be completed.
    if (!file || file.bytes === undefined) return fail('file_not_found');
    if (isRecord(entry) && typeof entry.title === 'string') file.title = entry.title;
    files.push(file);
  }
  const channel = resolveChannel(str(args, 'channel_id') ?? str(args, 'channels')?.split(',')[0]);
  const checked = checkBlocksArg(args.blocks);
  if (!checked.ok) return fail(checked.error, checked.messages);
  if (channel !== undefined) {
    const thread = threadParent(s, channel, str(args, 'thread_ts'));
    if ('error' in thread) return thread.error;
    s.messages.add(
      { channel, threadTs: thread.ts, user: s.botUserId, botId: s.botId, text: str(args, 'initial_comment') ?? '', blocks: checked.blocks, files },
      at,
    );
  }
  for (const f of files) f.completed = true;
  s.filesChanged?.();
  return { ok: true, files: files.map((f) => fileJson(f, s)) };
}

/** The bytes POSTed to an upload URL; false when the file id is unknown. */
export function acceptUpload(s: WorkspaceState, fileId: string, bytes: Buffer): boolean {
  const file = s.files.get(fileId);
  if (!file) return false;
  file.bytes = bytes;
  s.filesChanged?.();
  return true;
}

/** A view argument: JSON text in a form body, the object itself in a JSON body. */
const viewArgs = (args: Args): Args => ({ ...args, view: json(args, 'view') });

function viewsPublish(args: Args, s: WorkspaceState): Answer {
  // Any member id will do (the workspace may not list everyone a runbook names); Slack refuses what is no user id at all.
  return s.views.publish(viewArgs(args), (id) => /^[UW][A-Z0-9]+$/.test(id));
}

/** Every Web API method the workspace answers; anything else is `unknown_method`. */
export const METHODS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['api.test', (args) => ({ ok: true, args })],
  ['auth.test', (_args, s) => ({
    ok: true, url: `${s.origin}/`, team: s.teamName, user: BOT_NAME,
    team_id: s.teamId, user_id: s.botUserId, bot_id: s.botId, is_enterprise_install: false,
  })],
  ['chat.postMessage', postMessage],
  ['chat.update', update],
  ['chat.postEphemeral', postEphemeral],
  ['chat.getPermalink', getPermalink],
  ['chat.delete', deleteMessage],
  ['conversations.open', conversationsOpen],
  ['users.info', usersInfo],
  ['usergroups.users.list', usergroupUsers],
  ['reactions.add', reactionsAdd],
  ['files.getUploadURLExternal', getUploadUrl],
  ['files.completeUploadExternal', completeUpload],
  ['views.publish', viewsPublish],
  ['views.open', (args, s, at) => s.views.open(viewArgs(args), false, at)],
  ['views.push', (args, s, at) => s.views.open(viewArgs(args), true, at)],
  ['views.update', (args, s) => s.views.update(viewArgs(args))],
]);
