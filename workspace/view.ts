import { contentTypeOf } from './content-types.js';
import { dmChannelOf, type EphemeralMessage, type UploadedFile, type WorkspaceMessage, type WorkspaceMessages } from './messages.js';

/** Slack's own user: it tells people about failed commands. */
export const SLACKBOT = 'USLACKBOT';

/** Someone the page can act as. */
export interface Person {
  id: string;
  /** Handle, as in users.info `name`. */
  name: string;
  realName: string;
  /** The name Slack shows in a mention (profile.display_name); absent, Slack shows the real name. */
  displayName?: string;
  /** What they are in the runbooks, e.g. "demo: Database administrator". Empty for the outsider. */
  roles: string[];
  /** Member of no role: the person to see refusals with. */
  outsider?: boolean;
}

export interface FileView {
  id: string;
  name: string;
  title: string;
  size: number;
  url: string;
  /**
   * How the page shows it, as Slack does: an image inline; a snippet (uploaded with `snippet_type`) inline as code;
   * a hosted document (Markdown, plain text) with a short preview of its first lines; a hosted data file
   * (JSON, CSV, anything else) as a file card only: name, type, size, open and download.
   */
  kind: 'image' | 'snippet' | 'text' | 'other';
}

export interface MessageView {
  channel: string;
  ts: string;
  threadTs: string | null;
  user: string;
  text: string;
  blocks: unknown[] | null;
  files: FileView[];
  reactions: string[];
  edited: boolean;
  /** Shown only to the person viewing. */
  ephemeral: boolean;
  /** Thread replies (top-level messages only), ephemerals for this person included. */
  replies: MessageView[];
}

export interface ConversationView {
  id: string;
  name: string;
  kind: 'channel' | 'dm';
  messages: MessageView[];
}

/** What one person sees: the channels (with their ephemerals) and their DM with the bot. */
export function viewFor(
  as: string,
  messages: WorkspaceMessages,
  where: { origin: string; botUserId: string },
  channels: Array<{ id: string; name: string }>,
): { conversations: ConversationView[] } {
  const mine = messages.ephemeralsFor(as);
  const known = new Map(channels.map((c) => [c.id, c.name]));
  // Channels the bot posted to besides the configured one (an incident channel) show up too.
  for (const m of messages.all()) if (!m.channel.startsWith('D') && !known.has(m.channel)) known.set(m.channel, m.channel);
  const conversations: ConversationView[] = [...known].map(([id, name]) => ({ id, name, kind: 'channel', messages: timeline(id, messages, mine, where) }));
  const dm = dmChannelOf(as);
  conversations.push({ id: dm, name: 'cutover (DM)', kind: 'dm', messages: timeline(dm, messages, mine, where) });
  return { conversations };
}

function timeline(channel: string, messages: WorkspaceMessages, mine: EphemeralMessage[], where: { origin: string; botUserId: string }): MessageView[] {
  const top = messages.inChannel(channel).map((m) => ({
    ...messageView(m, where.origin),
    replies: messages.threadOf(channel, m.ts).map((r) => messageView(r, where.origin)),
  }));
  const byTs = new Map(top.map((m) => [m.ts, m]));
  for (const e of mine.filter((x) => x.channel === channel)) {
    const parent = e.threadTs !== undefined ? byTs.get(e.threadTs) : undefined;
    if (parent) parent.replies.push(ephemeralView(e, where.botUserId));
    else top.push(ephemeralView(e, where.botUserId));
  }
  for (const m of top) m.replies.sort(byTimestamp);
  return top.sort(byTimestamp);
}

const byTimestamp = (a: MessageView, b: MessageView): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

function messageView(m: WorkspaceMessage, origin: string): MessageView {
  return {
    channel: m.channel,
    ts: m.ts,
    threadTs: m.threadTs ?? null,
    user: m.user,
    text: m.text,
    blocks: m.blocks ?? null,
    files: m.files.map((f) => fileView(f, origin)),
    reactions: [...m.reactions],
    edited: m.versions.length > 1,
    ephemeral: false,
    replies: [],
  };
}

function ephemeralView(e: EphemeralMessage, botUserId: string): MessageView {
  return {
    channel: e.channel, ts: e.ts, threadTs: e.threadTs ?? null, user: e.via === 'workspace' ? SLACKBOT : botUserId, text: e.text,
    blocks: e.blocks ?? null, files: [], reactions: [], edited: false, ephemeral: true, replies: [],
  };
}

function fileView(f: UploadedFile, origin: string): FileView {
  const type = contentTypeOf(f.filename);
  return {
    id: f.id,
    name: f.filename,
    title: f.title ?? f.filename,
    size: f.length,
    url: `${origin}/files/${f.id}/${encodeURIComponent(f.filename)}`,
    kind: type.startsWith('image/') ? 'image' : f.snippetType ? 'snippet' : type.startsWith('text/markdown') || type.startsWith('text/plain') ? 'text' : 'other',
  };
}
