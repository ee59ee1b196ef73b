/**
 * What the Slack-compatible workspace remembers: messages per channel (top
 * level and thread replies, with every version after chat.update),
 * ephemerals per user, DMs and uploaded files. Only the Web API handlers
 * write it; the page and the tests read it. Every change is announced to
 * `onChange` listeners (the page's live updates).
 */
import { blockTexts } from './blocks.js';

export interface MessageVersion {
  text: string;
  blocks: unknown[] | undefined;
  at: number;
}

export interface UploadedFile {
  id: string;
  filename: string;
  title: string | undefined;
  length: number;
  /** The bytes POSTed to the upload URL; undefined until then. */
  bytes: Buffer | undefined;
  /** True once files.completeUploadExternal named it. */
  completed: boolean;
  /**
   * files.getUploadURLExternal's `snippet_type`: given, the file is a snippet (mode "snippet"), shown inline
   * as code; absent, an uploaded file (mode "hosted"), shown as a file card.
   */
  snippetType?: string;
}

export interface WorkspaceMessage {
  channel: string;
  ts: string;
  /** Parent ts for a thread reply; undefined for a top-level message. */
  threadTs: string | undefined;
  user: string;
  botId: string;
  /** Current text and blocks, after any chat.update. */
  text: string;
  blocks: unknown[] | undefined;
  files: UploadedFile[];
  reactions: string[];
  /** The original and every update, oldest first. */
  versions: MessageVersion[];
  /** Set by chat.delete or a response_url `delete_original`. */
  deleted: boolean;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  ts: string;
  threadTs: string | undefined;
  text: string;
  blocks: unknown[] | undefined;
  at: number;
  /** How it came: the Web API, a response_url post, a slash command's HTTP answer, or the workspace itself (a failed command). */
  via: 'chat.postEphemeral' | 'response_url' | 'command_response' | 'workspace';
  /** Set when a response_url post replaced it with nothing (`delete_original`). */
  deleted?: true;
}

/** A WorkspaceMessages as plain JSON-able data; messages name their files by id. */
export interface MessagesSnapshot {
  seq: number;
  lastMicros: number;
  messages: Array<Omit<WorkspaceMessage, 'files'> & { files: string[] }>;
  ephemerals: EphemeralMessage[];
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

export class WorkspaceMessages {
  private readonly list: WorkspaceMessage[] = [];
  private readonly ephemeralList: EphemeralMessage[] = [];
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private lastMicros = 0;

  /**
   * Without a clock, ts values start at a fixed epoch and step 100 µs (tests
   * compare them); with one, they are the current time like Slack's, still
   * unique and strictly increasing.
   */
  constructor(
    private readonly clock?: () => number,
    /** Versions kept per message (the original and the latest are what a long-running workspace needs); unlimited for tests. */
    private readonly maxVersions = Number.POSITIVE_INFINITY,
  ) {}

  /** Calls `listener` after every change; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** A unique, strictly increasing ts such as '1732190000.000100'. */
  nextTs(): string {
    if (this.clock) {
      this.lastMicros = Math.max(this.clock() * 1000, this.lastMicros + 1);
      return `${Math.floor(this.lastMicros / 1_000_000)}.${String(this.lastMicros % 1_000_000).padStart(6, '0')}`;
    }
    this.seq += 1;
    const micros = this.seq * 100;
    const seconds = TS_EPOCH_S + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  add(input: Omit<WorkspaceMessage, 'ts' | 'versions' | 'deleted' | 'reactions'>, at: number): WorkspaceMessage {
    const message: WorkspaceMessage = {
      ...input,
      ts: this.nextTs(),
      reactions: [],
      versions: [{ text: input.text, blocks: input.blocks, at }],
      deleted: false,
    };
    this.list.push(message);
    this.changed();
    return message;
  }

  addEphemeral(input: Omit<EphemeralMessage, 'ts'>): EphemeralMessage {
    const ephemeral: EphemeralMessage = { ...input, ts: this.nextTs() };
    this.ephemeralList.push(ephemeral);
    this.changed();
    return ephemeral;
  }

  /** Applies an edit; blocks undefined keeps the old blocks, as chat.update does. */
  edit(message: WorkspaceMessage, change: { text?: string; blocks?: unknown[] }, at: number): void {
    if (change.text !== undefined) message.text = change.text;
    if (change.blocks !== undefined) message.blocks = change.blocks.length === 0 ? undefined : change.blocks;
    message.versions.push({ text: message.text, blocks: message.blocks, at });
    // Keep the original and the newest: a run's root message is edited on every event for hours.
    if (message.versions.length > this.maxVersions) message.versions.splice(1, message.versions.length - this.maxVersions);
    this.changed();
  }

  /** chat.delete or a response_url `delete_original`: gone from every view, kept for tests' history. */
  remove(message: WorkspaceMessage): void {
    message.deleted = true;
    this.changed();
  }

  /** Adds a reaction; false when it is already there. */
  react(message: WorkspaceMessage, name: string): boolean {
    if (message.reactions.includes(name)) return false;
    message.reactions.push(name);
    this.changed();
    return true;
  }

  /** Any live message, top level or reply. */
  get(channel: string, ts: string): WorkspaceMessage | undefined {
    return this.list.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** All live messages in posting order, optionally filtered. */
  all(filter: MessageFilter = {}): WorkspaceMessage[] {
    return this.list.filter(
      (m) =>
        !m.deleted &&
        (filter.channel === undefined || m.channel === filter.channel) &&
        (filter.threadTs === undefined || m.threadTs === filter.threadTs),
    );
  }

  /** Top-level messages of a channel, oldest first. */
  inChannel(channel: string): WorkspaceMessage[] {
    return this.all({ channel }).filter((m) => m.threadTs === undefined);
  }

  /** Replies in the thread under `ts` (not the parent), oldest first. */
  threadOf(channel: string, ts: string): WorkspaceMessage[] {
    return this.all({ channel, threadTs: ts });
  }

  /** Messages the bot sent to a user's DM (via conversations.open or a user id). */
  dmsTo(user: string): WorkspaceMessage[] {
    return this.all({ channel: dmChannelOf(user) });
  }

  /** The most recent live message whose text or blocks contain `substring`. */
  find(substring: string, filter: MessageFilter = {}): WorkspaceMessage | undefined {
    return this.findAll(substring, filter).at(-1);
  }

  findAll(substring: string, filter: MessageFilter = {}): WorkspaceMessage[] {
    return this.all(filter).filter((m) => searchableText(m).includes(substring));
  }

  /** Ephemerals shown to one user, oldest first. */
  ephemeralsFor(user: string): EphemeralMessage[] {
    return this.ephemeralList.filter((e) => e.user === user && !e.deleted);
  }

  /** A click's response_url replacing (or, with undefined, deleting) the ephemeral it was on. */
  replaceEphemeral(ephemeral: EphemeralMessage, change: { text: string; blocks: unknown[] | undefined } | undefined): void {
    if (change === undefined) ephemeral.deleted = true;
    else Object.assign(ephemeral, change);
    this.changed();
  }

  get ephemerals(): readonly EphemeralMessage[] {
    return this.ephemeralList;
  }

  /** Everything remembered, as plain data (files by id), for a restart to carry on from. */
  snapshot(): MessagesSnapshot {
    return {
      seq: this.seq,
      lastMicros: this.lastMicros,
      messages: this.list.map((m) => ({ ...m, files: m.files.map((f) => f.id) })),
      ephemerals: [...this.ephemeralList],
    };
  }

  /** Takes back a snapshot; `files` resolves the file ids (a file that is gone is left out). Announces the change. */
  restore(snapshot: MessagesSnapshot, files: ReadonlyMap<string, UploadedFile>): void {
    this.seq = snapshot.seq;
    this.lastMicros = snapshot.lastMicros;
    this.list.splice(0, this.list.length, ...snapshot.messages.map((m) => ({ ...m, files: m.files.flatMap((id) => files.get(id) ?? []) })));
    this.ephemeralList.splice(0, this.ephemeralList.length, ...snapshot.ephemerals);
    this.changed();
  }
}
