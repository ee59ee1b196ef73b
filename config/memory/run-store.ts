import { CutoverError } from '../../runbook/errors.js';
import { unreadableEvent } from '../../runbook/event-schema.js';
import type { AppendResult, EventCodec, RunStore } from '../../runbook/ports.js';

/**
 * RunStore in this process's memory, for local mode without Redis. Same
 * contract as RedisRunStore: append only at the expected version (checked and
 * written in one synchronous step, so concurrent callers serialize on the
 * event loop as they do inside Redis's Lua), one active slot per runbook.
 * Events are kept as text (the codec's, as on Redis) and checked when read, so
 * a caller can never mutate a stored event, and what comes back is what Redis
 * would give back. Lost when the process ends.
 */
export class MemoryRunStore<E extends { type: string }> implements RunStore<E> {
  private readonly streams = new Map<string, string[]>();
  private readonly activeSlots = new Map<string, string>();
  private readonly runs = new Map<string, { runbook: string; startedAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    /** runEventCodec for RunEvent; the default trusts what it stored itself (tests of the store alone). */
    private readonly codec: EventCodec<E> = { encode: (e) => JSON.stringify(e), decode: (raw) => raw as E },
  ) {}

  async load(runId: string): Promise<{ events: E[]; version: number }> {
    const read = await this.loadAfter(runId, { version: 0, cursor: null });
    return { events: read?.events ?? [], version: read?.version ?? 0 };
  }

  async loadAfter(runId: string, known: { version: number; cursor: string | null }): Promise<{ events: E[]; version: number; cursor: string | null } | null> {
    const stream = this.streams.get(runId) ?? [];
    if (stream.length < known.version) return null;
    const events = stream.slice(known.version).map((text, i) => this.decode(runId, known.version + i + 1, text));
    return { events, version: stream.length, cursor: null };
  }

  /** Tests only: stores text as it is, as a damaged or newer writer might have left it. */
  appendRaw(runId: string, text: string): void {
    this.streams.set(runId, [...(this.streams.get(runId) ?? []), text]);
  }

  private decode(runId: string, position: number, text: string): E {
    try {
      return this.codec.decode(JSON.parse(text));
    } catch (cause) {
      throw unreadableEvent(runId, position, `#${position} of the in-memory stream`, cause);
    }
  }

  async append(runId: string, expectedVersion: number, events: E[]): Promise<AppendResult> {
    const stream = this.streams.get(runId) ?? [];
    if (stream.length !== expectedVersion) return { ok: false, reason: 'conflict', actualVersion: stream.length };
    stream.push(...events.map((e) => this.codec.encode(e)));
    this.streams.set(runId, stream);
    return { ok: true, version: stream.length };
  }

  async create(runId: string, runbook: string, events: E[]): Promise<{ ok: true } | { ok: false; activeRunId: string }> {
    if (events.length === 0) {
      throw new CutoverError('run.create_empty', 'A run cannot start without events.', { detail: `run ${runId}` });
    }
    const holder = this.activeSlots.get(runbook);
    if (holder !== undefined) return { ok: false, activeRunId: holder };
    if ((this.streams.get(runId)?.length ?? 0) !== 0) {
      throw new CutoverError('run.id_taken', 'Could not start the run: its id is already in use.', { detail: `run ${runId}` });
    }
    this.activeSlots.set(runbook, runId);
    this.streams.set(runId, events.map((e) => this.codec.encode(e)));
    this.runs.set(runId, { runbook, startedAt: this.now() });
    return { ok: true };
  }

  async release(runbook: string, runId: string): Promise<void> {
    if (this.activeSlots.get(runbook) === runId) this.activeSlots.delete(runbook);
  }

  async active(): Promise<Array<{ runbook: string; runId: string }>> {
    return [...this.activeSlots].map(([runbook, runId]) => ({ runbook, runId })).sort((a, b) => a.runbook.localeCompare(b.runbook));
  }

  async recent(limit: number): Promise<Array<{ runId: string; runbook: string; startedAt: number }>> {
    if (limit <= 0) return [];
    // Newest first; equal start times by run id descending, as Redis's ZREVRANGE orders ties.
    return [...this.runs]
      .map(([runId, r]) => ({ runId, runbook: r.runbook, startedAt: r.startedAt }))
      .sort((a, b) => b.startedAt - a.startedAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0))
      .slice(0, limit);
  }
}
