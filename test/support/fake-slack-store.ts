/**
 * What the fake Slack remembers: messages per channel (top level and thread
 * replies, with every version after chat.update), ephemerals per user, DMs
 * and uploaded files. Tests read it; only the fake's handlers write it.
 */
import { blockTexts } from './fake-slack-blocks.js';

export interface FakeMessageVersion {
  text: string;
  blocks: unknown[] | undefined;
  at: number;
}

export interface FakeFile {
  id: string;
  filename: string;
  title: string | undefined;
  length: number;
  /** The bytes POSTed to the upload URL; undefined until then. */
  bytes: Buffer | undefined;
  /** True once files.completeUploadExternal named it. */
  completed: boolean;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  /** Parent ts for a thread reply; undefined for a top-level message. */
  threadTs: string | undefined;
  user: string;
  botId: string;
  /** Current text and blocks, after any chat.update. */
  text: string;
  blocks: unknown[] | undefined;
  files: FakeFile[];
  reactions: string[];
  /** The original and every update, oldest first. */
  versions: FakeMessageVersion[];
  /** Set by chat.delete or a response_url `delete_original`. */
  deleted: boolean;
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: unknown[] | undefined;
  at: number;
  via: 'chat.postEphemeral' | 'response_url';
}

export interface MessageFilter {
  channel?: string;
  /** Only replies in this thread (parent ts). */
  threadTs?: string;
}

/** Slack's DM id for the bot's conversation with a user: stable per user. */
export function dmChannelOf(user: string): string {
  return `D${user}`;
}

/** Message text plus all text inside its blocks, for substring search. */
export function searchableText(m: { text: string; blocks: unknown[] | undefined }): string {
  return [m.text, ...blockTexts(m.blocks)].join('\n');
}

/** The first ts handed out; each later one is 100 µs on, like real ts values. */
const TS_EPOCH_S = 1_732_190_000;

export class FakeSlackMessages {
  private readonly list: FakeMessage[] = [];
  private readonly ephemeralList: FakeEphemeral[] = [];
  private seq = 0;

  /** A unique, strictly increasing ts such as '1732190000.000100'. */
  nextTs(): string {
    this.seq += 1;
    const micros = this.seq * 100;
    const seconds = TS_EPOCH_S + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  add(input: Omit<FakeMessage, 'ts' | 'versions' | 'deleted' | 'reactions'>, at: number): FakeMessage {
    const message: FakeMessage = {
      ...input,
      ts: this.nextTs(),
      reactions: [],
      versions: [{ text: input.text, blocks: input.blocks, at }],
      deleted: false,
    };
    this.list.push(message);
    return message;
  }

  addEphemeral(input: Omit<FakeEphemeral, 'ts'>): FakeEphemeral {
    const ephemeral: FakeEphemeral = { ...input, ts: this.nextTs() };
    this.ephemeralList.push(ephemeral);
    return ephemeral;
  }

  /** Applies an edit; blocks undefined keeps the old blocks, as chat.update does. */
  edit(message: FakeMessage, change: { text?: string; blocks?: unknown[] }, at: number): void {
    if (change.text !== undefined) message.text = change.text;
    if (change.blocks !== undefined) message.blocks = change.blocks.length === 0 ? undefined : change.blocks;
    message.versions.push({ text: message.text, blocks: message.blocks, at });
  }

  /** Any live message, top level or reply. */
  get(channel: string, ts: string): FakeMessage | undefined {
    return this.list.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** All live messages in posting order, optionally filtered. */
  all(filter: MessageFilter = {}): FakeMessage[] {
    return this.list.filter(
      (m) =>
        !m.deleted &&
        (filter.channel === undefined || m.channel === filter.channel) &&
        (filter.threadTs === undefined || m.threadTs === filter.threadTs),
    );
  }

  /** Top-level messages of a channel, oldest first. */
  inChannel(channel: string): FakeMessage[] {
    return this.all({ channel }).filter((m) => m.threadTs === undefined);
  }

  /** Replies in the thread under `ts` (not the parent), oldest first. */
  threadOf(channel: string, ts: string): FakeMessage[] {
    return this.all({ channel, threadTs: ts });
  }

  /** Messages the bot sent to a user's DM (via conversations.open or a user id). */
  dmsTo(user: string): FakeMessage[] {
    return this.all({ channel: dmChannelOf(user) });
  }

  /** The most recent live message whose text or blocks contain `substring`. */
  find(substring: string, filter: MessageFilter = {}): FakeMessage | undefined {
    return this.findAll(substring, filter).at(-1);
  }

  findAll(substring: string, filter: MessageFilter = {}): FakeMessage[] {
    return this.all(filter).filter((m) => searchableText(m).includes(substring));
  }

  /** Ephemerals shown to one user, oldest first. */
  ephemeralsFor(user: string): FakeEphemeral[] {
    return this.ephemeralList.filter((e) => e.user === user);
  }

  get ephemerals(): readonly FakeEphemeral[] {
    return this.ephemeralList;
  }
}
