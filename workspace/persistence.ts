import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { MessagesSnapshot, UploadedFile, WorkspaceMessages } from './messages.js';
import { CutoverError } from '../runbook/errors.js';

const fileMeta = z.object({
  id: z.string().regex(/^F\w+$/),
  filename: z.string(),
  title: z.string().optional(),
  length: z.number().int().nonnegative(),
  completed: z.boolean(),
  uploaded: z.boolean(),
  snippetType: z.string().optional(),
});

const stateFile = z.object({
  version: z.literal(1),
  messages: z.object({
    seq: z.number().int().nonnegative(),
    lastMicros: z.number().nonnegative(),
    messages: z.array(
      z.object({
        channel: z.string(),
        ts: z.string(),
        threadTs: z.string().optional(),
        user: z.string(),
        botId: z.string(),
        text: z.string(),
        blocks: z.array(z.unknown()).optional(),
        files: z.array(z.string()),
        reactions: z.array(z.string()),
        versions: z.array(z.object({ text: z.string(), blocks: z.array(z.unknown()).optional(), at: z.number() })),
        deleted: z.boolean(),
      }),
    ),
    ephemerals: z.array(
      z.object({
        channel: z.string(),
        user: z.string(),
        ts: z.string(),
        threadTs: z.string().optional(),
        text: z.string(),
        blocks: z.array(z.unknown()).optional(),
        at: z.number(),
        via: z.enum(['chat.postEphemeral', 'response_url', 'command_response', 'workspace']),
        deleted: z.literal(true).optional(),
      }),
    ),
  }),
  files: z.array(fileMeta),
});

/**
 * Keeps the workspace's messages and files in a folder, so a restart of local
 * mode on a durable backend (Redis) finds the messages its runs refer to —
 * the bot edits them by ts. Writes are coalesced and atomic (temp file +
 * rename); file bytes are written once, when uploaded.
 */
export class WorkspaceStore {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly written = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly messages: WorkspaceMessages,
    private readonly files: Map<string, UploadedFile>,
  ) {}

  private get stateFile(): string {
    return join(this.dir, 'workspace.json');
  }

  /** Loads what an earlier run saved; false when there is nothing (or nothing readable) to load. */
  async load(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch {
      return false;
    }
    const parsed = stateFile.safeParse(JSON.parse(text));
    if (!parsed.success) throw new CutoverError('workspace.bad_state', `${this.stateFile} is not a workspace state file: ${parsed.error.issues[0]?.message ?? ''}`);
    for (const meta of parsed.data.files) {
      const bytes = meta.uploaded ? await readFile(join(this.dir, 'files', meta.id)).catch(() => undefined) : undefined;
      this.files.set(meta.id, {
        id: meta.id, filename: meta.filename, title: meta.title, length: meta.length, bytes, completed: meta.completed && bytes !== undefined,
        ...(meta.snippetType ? { snippetType: meta.snippetType } : {}),
      });
      if (bytes) this.written.add(meta.id);
    }
    this.messages.restore(snapshotOf(parsed.data.messages), this.files);
    return true;
  }

  /** Saves soon; many changes in a burst make one write. */
  schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.writing = this.writing.then(() => this.save());
    }, 200);
  }

  /** Writes now and waits for every pending write. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.writing = this.writing.then(() => this.save());
    }
    await this.writing;
  }

  private async save(): Promise<void> {
    await mkdir(join(this.dir, 'files'), { recursive: true });
    for (const file of this.files.values()) {
      if (!file.bytes || this.written.has(file.id)) continue;
      await writeFile(join(this.dir, 'files', file.id), file.bytes);
      this.written.add(file.id);
    }
    const state = {
      version: 1,
      messages: this.messages.snapshot(),
      files: [...this.files.values()].map((f) => ({
        id: f.id, filename: f.filename, title: f.title, length: f.length, completed: f.completed, uploaded: f.bytes !== undefined,
        ...(f.snippetType ? { snippetType: f.snippetType } : {}),
      })),
    };
    const temp = `${this.stateFile}.tmp`;
    await writeFile(temp, JSON.stringify(state));
    await rename(temp, this.stateFile);
  }
}

/** JSON drops undefined fields; the workspace's types spell them out. */
function snapshotOf(saved: z.infer<typeof stateFile>['messages']): MessagesSnapshot {
  return {
    seq: saved.seq,
    lastMicros: saved.lastMicros,
    messages: saved.messages.map((m) => ({
      ...m,
      threadTs: m.threadTs,
      blocks: m.blocks,
      versions: m.versions.map((v) => ({ text: v.text, blocks: v.blocks, at: v.at })),
    })),
    ephemerals: saved.ephemerals.map((e) => ({ ...e, threadTs: e.threadTs, blocks: e.blocks })),
  };
}
